/**
 * The gateway's canonical request and response shapes: OpenAI's Chat Completions and Embeddings wire
 * format. Every adapter translates from and to these; the Anthropic Messages endpoint translates in.
 */

/** A content part of a user message. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

/** A tool call the assistant made. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A chat message in OpenAI's shape. */
export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | ContentPart[]; name?: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | ContentPart[] | null;
      name?: string;
      tool_calls?: ToolCall[];
      refusal?: string | null;
    }
  | { role: 'tool'; content: string | ContentPart[]; tool_call_id: string };

/** A function tool offered to the model. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** `POST /v1/chat/completions` body. Unknown fields pass through to OpenAI-compatible upstreams. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  user?: string;
  metadata?: Record<string, string> | null;
  tools?: ToolDefinition[];
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?:
    | { type: 'text' }
    | { type: 'json_object' }
    | {
        type: 'json_schema';
        json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean };
      };
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  [extra: string]: unknown;
}

/** Token usage as OpenAI reports it. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

/** Why generation stopped. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** Log probability of one output token. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: { token: string; logprob: number; bytes?: number[] | null }[];
}

/** A non-streamed chat completion. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string | null;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null };
    finish_reason: FinishReason | null;
    /**
     * The stop sequence that ended generation, when the upstream reports it (vLLM's `stop_reason`;
     * Anthropic's `stop_sequence`). Lets the Anthropic endpoint answer `stop_reason: stop_sequence`.
     */
    stop_reason?: string | number | null;
    logprobs?: { content: TokenLogprob[] | null } | null;
  }[];
  usage?: Usage;
}

/** One streamed chunk (`data: {...}` of the SSE stream). */
export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string | null;
  choices: {
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: {
        index: number;
        id?: string;
        type?: 'function';
        function?: { name?: string; arguments?: string };
      }[];
    };
    finish_reason: FinishReason | null;
    /**
     * The stop sequence that ended generation, when the upstream reports it (vLLM's `stop_reason`;
     * Anthropic's `stop_sequence`). Lets the Anthropic endpoint answer `stop_reason: stop_sequence`.
     */
    stop_reason?: string | number | null;
    logprobs?: { content: TokenLogprob[] | null } | null;
  }[];
  usage?: Usage | null;
}

/** `POST /v1/embeddings` body. */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

/** `POST /v1/embeddings` response. */
export interface EmbeddingsResponse {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
