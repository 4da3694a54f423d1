import type { Deployment } from '@switchyard/engine';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './chat-types.ts';

/** Everything an adapter needs for one upstream call, resolved by the server from the plan. */
export interface ProviderCall {
  /** The deployment chosen by the engine (upstream model name, provider declaration, prices). */
  deployment: Deployment;
  /** The provider's API key, already resolved from its `${env:…}` reference (undefined if none). */
  apiKey?: string | undefined;
  /** Base URL, already resolved; adapters fall back to the provider's public default. */
  baseUrl?: string | undefined;
  /** Extra headers, already resolved. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Aborts the upstream request at once (client disconnect, timeouts). */
  signal: AbortSignal;
  requestId: string;
  /** W3C trace context to propagate upstream. */
  traceparent?: string | undefined;
  /**
   * Ask the upstream to cache the stable prompt prefix (system prompt, tool definitions) where it
   * needs explicit breakpoints (Anthropic's `cache_control`). Default false; upstreams that cache
   * automatically ignore it.
   */
  promptCache?: boolean | undefined;
}

/** A streamed answer: chunks in OpenAI's shape, yielded as the upstream sends them. */
export interface ChatStream extends AsyncIterable<ChatChunk> {
  /** Usage once the stream has ended (from the upstream's usage event), if the upstream sent it. */
  readonly usage: ChatChunk['usage'] | undefined;
}

/**
 * One provider's adapter. Requests and responses are in OpenAI's shape; the adapter translates to
 * and from its upstream's documented wire format. Failures are thrown as `UpstreamError`.
 */
export interface ProviderAdapter {
  /** A non-streamed chat completion. */
  chat(request: ChatRequest, call: ProviderCall): Promise<ChatCompletion>;
  /**
   * A streamed chat completion. Resolves once the upstream answered with a success status (errors
   * before that reject, so the caller can still retry or fall back); chunks then flow as they arrive.
   * Adapters always ask the upstream for usage.
   */
  chatStream(request: ChatRequest, call: ProviderCall): Promise<ChatStream>;
  /** Embeddings. */
  embed(request: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** How an upstream failed: decides retry, fallback, breaker accounting and the status the client sees. */
export type UpstreamFailureKind =
  | 'connect' // could not connect / connection reset before a response
  | 'timeout' // a timeout ended the call
  | 'status' // the upstream answered with an error status
  | 'body' // a 200 whose body (or first stream event) was an error
  | 'protocol' // the upstream's answer could not be understood
  | 'aborted'; // the client went away

/** An upstream failure, already mapped to the OpenAI error shape the client will see. */
export class UpstreamError extends Error {
  readonly kind: UpstreamFailureKind;
  /** HTTP status to return to the client (400, 401, 403, 404, 429, 502, 503, 504…). */
  readonly status: number;
  /** OpenAI error `type`, e.g. `rate_limit_error`, `invalid_request_error`, `upstream_error`. */
  readonly type: string;
  /** OpenAI error `code`, e.g. `rate_limit_exceeded`, `upstream_overloaded`. */
  readonly code: string;
  /** Status the upstream itself returned, if any. */
  readonly upstreamStatus?: number;
  /** From the upstream's Retry-After (or equivalent), in milliseconds. */
  readonly retryAfterMs?: number;
  /** The request field the upstream blamed (OpenAI error `param`), for invalid requests. */
  readonly param?: string;
  override name = 'UpstreamError';
  constructor(
    message: string,
    kind: UpstreamFailureKind,
    status: number,
    type: string,
    code: string,
    upstreamStatus?: number,
    retryAfterMs?: number,
    param?: string,
  ) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.type = type;
    this.code = code;
    this.upstreamStatus = upstreamStatus;
    this.retryAfterMs = retryAfterMs;
    this.param = param;
  }
}
