import type { ProviderSpec } from '@switchyard/engine';
import type { Agent } from 'undici';
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Usage,
} from './chat-types.ts';
import { primeChatStream } from './primed-chat-stream.ts';
import { type ChatStream, type ProviderAdapter, type ProviderCall, UpstreamError } from './provider.ts';
import { sendUpstreamRequest, type UpstreamResponse } from './send-upstream-request.ts';
import { parseSse, type SseEvent } from './sse-parser.ts';
import { createUpstreamAgent } from './upstream-agent.ts';
import { parseRetryAfter, upstreamErrorFromStatus } from './upstream-error-map.ts';

/** How one OpenAI-wire provider differs from another; everything else is shared. */
export interface OpenAiWireOptions {
  /** Base URL when the call resolved none (`https://api.openai.com/v1`); undefined: the provider must declare one. */
  defaultBaseUrl?: string | undefined;
  /** Whether a call without an API key fails before anything is sent. */
  requiresApiKey: boolean;
  /**
   * How output-token limits go upstream: `as-given` passes `max_tokens` and `max_completion_tokens`
   * untouched; `max_tokens` sends `max_completion_tokens` as `max_tokens`, the one field every
   * self-hosted server (vLLM, SGLang, Ollama, llama.cpp) reads.
   */
  tokenLimitField: 'as-given' | 'max_tokens';
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number | undefined;
}

/** An error object an upstream put in a body or stream event, in any of the shapes seen in the wild. */
export interface UpstreamErrorDetail {
  message: string;
  type?: string | undefined;
  param?: string | undefined;
  code?: string | undefined;
}

/**
 * The OpenAI Chat Completions / Embeddings client that the `openai` and `openai-compatible`
 * adapters are configurations of: POST `{baseUrl}/chat/completions` and `{baseUrl}/embeddings`
 * through one keep-alive pool per adapter, the deployment's model name substituted, usage always
 * requested on streams, streams parsed as they arrive and never buffered.
 */
export class OpenAiBaseAdapter implements ProviderAdapter {
  protected readonly spec: ProviderSpec;
  private readonly wire: OpenAiWireOptions;
  private readonly agent: Agent;

  constructor(spec: ProviderSpec, wire: OpenAiWireOptions) {
    this.spec = spec;
    this.wire = wire;
    this.agent = createUpstreamAgent({
      maxConnections: spec.maxConnections,
      ...(wire.connectTimeoutMs !== undefined ? { connectTimeoutMs: wire.connectTimeoutMs } : {}),
    });
  }

  /** A non-streamed completion; a 200 whose body is an error object fails with kind `body`. */
  async chat(request: ChatRequest, call: ProviderCall): Promise<ChatCompletion> {
    const body = this.upstreamChatBody(request, call);
    delete body.stream;
    delete body.stream_options;
    const payload = await this.readJson(
      await this.send('/chat/completions', body, call, 'application/json'),
      call,
    );
    if (!isRecord(payload) || !Array.isArray(payload.choices))
      throw protocolError(providerOf(call), 'a chat completion without `choices`');
    return payload as unknown as ChatCompletion;
  }

  /**
   * A streamed completion: resolves once the upstream answered 2xx and its first event arrived (an
   * error event in its place rejects, so the caller can still fall back), then yields each chunk as
   * it is parsed. `usage` holds the upstream's usage chunk once it went by.
   */
  async chatStream(request: ChatRequest, call: ProviderCall): Promise<ChatStream> {
    const body = this.upstreamChatBody(request, call);
    body.stream = true;
    body.stream_options = { ...request.stream_options, include_usage: true };
    const response = await this.send('/chat/completions', body, call, 'text/event-stream');
    const contentType = String(response.headers['content-type'] ?? '');
    if (contentType.includes('application/json')) {
      // Some servers answer a stream request with a plain JSON body: an error, or nothing usable.
      await this.readJson(response, call);
      throw protocolError(providerOf(call), 'a json body where an event stream was asked for');
    }
    const reader = new OpenAiChunkReader(providerOf(call));
    return primeChatStream(reader.read(parseSse(response.body)), () => reader.usage);
  }

  /** Embeddings, with the deployment's model name substituted. */
  async embed(request: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    const body = { ...request, model: call.deployment.model };
    const payload = await this.readJson(await this.send('/embeddings', body, call, 'application/json'), call);
    if (!isRecord(payload) || !Array.isArray(payload.data))
      throw protocolError(providerOf(call), 'an embeddings response without `data`');
    return payload as unknown as EmbeddingsResponse;
  }

  /** Closes the connection pool (waits for calls in flight). */
  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The request as the upstream gets it: its own model name, token limits mapped per `tokenLimitField`. */
  private upstreamChatBody(request: ChatRequest, call: ProviderCall): Record<string, unknown> {
    const body: Record<string, unknown> = { ...request, model: call.deployment.model };
    if (this.wire.tokenLimitField === 'max_tokens' && request.max_completion_tokens != null) {
      body.max_tokens ??= request.max_completion_tokens;
      delete body.max_completion_tokens;
    }
    return body;
  }

  private baseUrlOf(call: ProviderCall): string {
    // An unresolved `${env:…}` reference is no URL; only a literal declaration can stand in for the call's.
    const declared = this.spec.baseUrl?.includes('${') ? undefined : this.spec.baseUrl;
    const baseUrl = call.baseUrl ?? declared ?? this.wire.defaultBaseUrl;
    if (!baseUrl)
      throw new UpstreamError(
        `provider \`${providerOf(call)}\` has no base url; set \`baseUrl\` (e.g. \`http://localhost:8000/v1\`)`,
        'protocol',
        502,
        'upstream_error',
        'upstream_protocol_error',
      );
    return baseUrl.replace(/\/+$/, '');
  }

  private headersOf(call: ProviderCall, accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept,
      'x-request-id': call.requestId,
    };
    if (call.apiKey) headers.authorization = `Bearer ${call.apiKey}`;
    if (this.spec.organization) headers['openai-organization'] = this.spec.organization;
    if (call.traceparent) headers.traceparent = call.traceparent;
    // Declared headers come last on purpose: they may replace `authorization` for gateways in front of the upstream.
    for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
    return headers;
  }

  private async send(
    path: string,
    body: unknown,
    call: ProviderCall,
    accept: string,
  ): Promise<UpstreamResponse> {
    const provider = providerOf(call);
    if (this.wire.requiresApiKey && !call.apiKey)
      throw new UpstreamError(
        `provider \`${provider}\` has no api key; set the environment variable its \`apiKey\` refers to`,
        'status',
        502,
        'upstream_error',
        'upstream_auth_failed',
      );
    const url = `${this.baseUrlOf(call)}${path}`;
    const response = await sendUpstreamRequest(this.agent, provider, url, {
      headers: this.headersOf(call, accept),
      body: JSON.stringify(body),
      signal: call.signal,
    });
    if (response.status >= 200 && response.status < 300) return response;
    const retryAfterMs = parseRetryAfter(response.headers, Date.now());
    const text = await response.text(64 * 1024);
    const detail = upstreamErrorDetailOf(safeJsonParse(text)) ?? { message: text.trim() || 'no error body' };
    throw upstreamErrorFromStatus(
      provider,
      response.status,
      oneLine(redactSecrets(detail.message, call.apiKey)),
      retryAfterMs,
      detail.param,
    );
  }

  /** Reads a whole 2xx JSON body; an error object in it fails with kind `body`. */
  private async readJson(response: UpstreamResponse, call: ProviderCall): Promise<unknown> {
    const provider = providerOf(call);
    const text = await response.text(Number.POSITIVE_INFINITY);
    const payload = safeJsonParse(text);
    if (payload === undefined) throw protocolError(provider, 'a body that is not json');
    const detail = upstreamErrorDetailOf(payload);
    if (detail) throw bodyError(provider, detail, call.apiKey);
    return payload;
  }
}

/**
 * Turns OpenAI SSE events into chunks: one chunk per `data:` JSON event, stopping at `data: [DONE]`;
 * an error object as an event (vLLM, llama.cpp and LM Studio send them after a 200) throws kind
 * `body`; a stream that ends with neither `[DONE]` nor a finish reason throws kind `protocol`.
 */
export class OpenAiChunkReader {
  private readonly provider: string;
  /** The last usage an event carried (the `choices: []` chunk that `include_usage` adds). */
  usage: Usage | undefined;

  constructor(provider: string) {
    this.provider = provider;
  }

  /** Yields chunks as events arrive. */
  async *read(events: AsyncIterable<SseEvent>): AsyncGenerator<ChatChunk> {
    let finished = false;
    for await (const event of events) {
      if (event.data === '[DONE]') return;
      const payload = safeJsonParse(event.data);
      if (payload === undefined)
        throw protocolError(this.provider, `a stream event that is not json: \`${event.data.slice(0, 80)}\``);
      const detail =
        upstreamErrorDetailOf(payload) ?? (event.event === 'error' ? looseErrorDetail(payload) : undefined);
      if (detail) throw bodyError(this.provider, detail);
      if (!isRecord(payload) || !Array.isArray(payload.choices))
        throw protocolError(this.provider, 'a stream event without `choices`');
      const chunk = payload as unknown as ChatChunk;
      if (chunk.usage) this.usage = chunk.usage;
      if (chunk.choices.some((choice) => choice.finish_reason)) finished = true;
      yield chunk;
    }
    if (!finished)
      throw protocolError(this.provider, 'a stream that ended before `[DONE]` or a finish reason');
  }
}

/**
 * Finds an error object in a parsed body or event: OpenAI's `{"error":{"message","type","param","code"}}`,
 * Ollama's `{"error":"…"}`, older vLLM's `{"object":"error","message",…}`, FastAPI's `{"detail":"…"}`.
 */
export function upstreamErrorDetailOf(payload: unknown): UpstreamErrorDetail | undefined {
  if (!isRecord(payload)) return undefined;
  const error = payload.error;
  if (isRecord(error)) return looseErrorDetail(error);
  if (typeof error === 'string') return { message: error };
  if (payload.object === 'error') return looseErrorDetail(payload);
  if (typeof payload.detail === 'string' && !('choices' in payload)) return { message: payload.detail };
  return undefined;
}

function looseErrorDetail(error: unknown): UpstreamErrorDetail {
  if (!isRecord(error)) return { message: String(error) };
  return {
    message: typeof error.message === 'string' ? error.message : JSON.stringify(error),
    type: stringOf(error.type),
    param: stringOf(error.param),
    code: stringOf(error.code),
  };
}

function bodyError(provider: string, detail: UpstreamErrorDetail, apiKey?: string): UpstreamError {
  const message = oneLine(redactSecrets(detail.message, apiKey));
  return new UpstreamError(
    `${provider} answered with an error: ${message}`,
    'body',
    502,
    'upstream_error',
    'upstream_server_error',
  );
}

function protocolError(provider: string, what: string): UpstreamError {
  return new UpstreamError(
    `${provider} sent ${what}`,
    'protocol',
    502,
    'upstream_error',
    'upstream_protocol_error',
  );
}

/** Upstreams echo part of a refused key (`Incorrect API key provided: sk-ab***yz`); clients must never see it. */
function redactSecrets(message: string, apiKey: string | undefined): string {
  let redacted = message.replace(/\bsk-[\w*.-]{4,}/g, 'sk-***');
  if (apiKey && apiKey.length >= 8) redacted = redacted.split(apiKey).join('***');
  return redacted;
}

function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

function providerOf(call: ProviderCall): string {
  return call.deployment.providerName;
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
