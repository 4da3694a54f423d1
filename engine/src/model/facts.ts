/** Which API a request came in on. */
export type Endpoint = 'chat' | 'embeddings' | 'messages';

/**
 * What the server knows about a request before deciding: the only inputs routes, cache rules and
 * JSON Logic conditions can look at. The server collects them; the engine never reads a request body.
 */
export interface RequestFacts {
  /** The API the request came in on. */
  endpoint: Endpoint;
  /** The `model` the client asked for: a logical model name or a route alias such as `auto`. */
  model: string;
  /** The tenant the API key belongs to. */
  tenant: string;
  /** The API key's id (never the key itself). */
  keyId: string;
  /** The end user the client named (`user` field or `x-switchyard-user` header), if any. */
  user?: string | undefined;
  /** Free-form tags from the `x-switchyard-tags` header or `metadata.tags`. */
  tags: readonly string[];
  /** Whether the client asked for a streamed answer. */
  stream: boolean;
  /** Whether the request offers tools. */
  hasTools: boolean;
  /** Whether any message carries an image. */
  hasImages: boolean;
  /** Estimated input tokens (prompt). */
  inputTokens: number;
  /** The client's `max_tokens` / `max_completion_tokens`, if set. */
  maxTokens?: number | undefined;
  /** The sampling temperature, if set. */
  temperature?: number | undefined;
  /** The `top_p`, if set. */
  topP?: number | undefined;
  /** Number of messages (chat and messages) or inputs (embeddings). */
  messageCount: number;
  /** `text`, `json_object` or `json_schema`. */
  responseFormat: 'text' | 'json_object' | 'json_schema';
  /** String metadata from the request (`metadata` field); JSON Logic reads it as `metadata.<key>`. */
  metadata: Readonly<Record<string, string>>;
}

/** A documented request fact, as JSON Logic and the policy reference see it. */
export interface FactDoc {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'string[]' | 'object';
  description: string;
}

/** The fixed set of facts JSON Logic may read (`metadata.<key>` reads one metadata entry). */
export const factDocs: readonly FactDoc[] = [
  { name: 'endpoint', type: 'string', description: '`chat`, `embeddings` or `messages`' },
  { name: 'model', type: 'string', description: 'the model the client asked for' },
  { name: 'tenant', type: 'string', description: 'the tenant of the API key' },
  { name: 'keyId', type: 'string', description: 'the API key id (never the key)' },
  { name: 'user', type: 'string', description: 'the end user named by the client, if any' },
  { name: 'tags', type: 'string[]', description: 'tags from `x-switchyard-tags` or `metadata.tags`' },
  { name: 'stream', type: 'boolean', description: 'whether the answer is streamed' },
  { name: 'hasTools', type: 'boolean', description: 'whether the request offers tools' },
  { name: 'hasImages', type: 'boolean', description: 'whether a message carries an image' },
  { name: 'inputTokens', type: 'number', description: 'estimated prompt tokens' },
  { name: 'maxTokens', type: 'number', description: 'the client’s max output tokens, if set' },
  { name: 'temperature', type: 'number', description: 'sampling temperature, if set' },
  { name: 'topP', type: 'number', description: 'top_p, if set' },
  { name: 'messageCount', type: 'number', description: 'number of messages or embedding inputs' },
  { name: 'responseFormat', type: 'string', description: '`text`, `json_object` or `json_schema`' },
  { name: 'metadata', type: 'object', description: 'string metadata; read one entry as `metadata.<key>`' },
];

/** Names JSON Logic `var` may start with. */
export const factNames: ReadonlySet<string> = new Set(factDocs.map((f) => f.name));
