import type { ProviderSpec } from '@switchyard/engine';
import type { Agent } from 'undici';
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from '../chat-types.ts';
import { invalidChatRequestError } from '../invalid-chat-request-error.ts';
import { type ChatStream, type ProviderAdapter, type ProviderCall, UpstreamError } from '../provider.ts';
import { sendUpstreamRequest, type UpstreamResponse } from '../send-upstream-request.ts';
import { parseSse } from '../sse-parser.ts';
import { createUpstreamAgent } from '../upstream-agent.ts';
import { parseRetryAfter, upstreamErrorFromStatus } from '../upstream-error-map.ts';
import { applyPromptCacheBreakpoints } from './apply-prompt-cache-breakpoints.ts';
import { anthropicStreamError, openAnthropicChatStream } from './stream.ts';
import { toAnthropicRequest } from './translate-request.ts';
import { fromAnthropicMessage } from './translate-response.ts';
import type { AnthropicErrorBody, AnthropicMessage } from './wire.ts';

/** Anthropic's public API origin, used when the provider declares no `baseUrl`. */
export const anthropicDefaultBaseUrl = 'https://api.anthropic.com';
/** The `anthropic-version` header sent when the provider declares no `apiVersion`. */
export const anthropicDefaultApiVersion = '2023-06-01';

/** Options of an Anthropic adapter. */
export interface AnthropicAdapterOptions {
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * Talks to Anthropic's Messages API (`POST /v1/messages`), translating from and to OpenAI's chat
 * shape. One keep-alive connection pool per adapter; aborting a call's signal closes its socket.
 */
export class AnthropicAdapter implements ProviderAdapter {
  private readonly spec: ProviderSpec;
  private readonly agent: Agent;

  constructor(spec: ProviderSpec, options: AnthropicAdapterOptions = {}) {
    this.spec = spec;
    this.agent = createUpstreamAgent({
      maxConnections: spec.maxConnections,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  }

  /** A non-streamed completion. */
  async chat(request: ChatRequest, call: ProviderCall): Promise<ChatCompletion> {
    const response = await this.send(request, call, false);
    let message: AnthropicMessage;
    try {
      message = JSON.parse(await response.text(Number.POSITIVE_INFINITY)) as AnthropicMessage;
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError(
        'anthropic sent an unreadable response body',
        'protocol',
        502,
        'upstream_error',
        'upstream_protocol_error',
      );
    }
    const body = message as AnthropicMessage | AnthropicErrorBody;
    if (body.type === 'error') throw anthropicStreamError(body.error);
    return fromAnthropicMessage(message, Math.floor(Date.now() / 1000));
  }

  /** A streamed completion; resolves after a 2xx answer and its first event. */
  async chatStream(request: ChatRequest, call: ProviderCall): Promise<ChatStream> {
    const response = await this.send(request, call, true);
    return openAnthropicChatStream(parseSse(response.body), Math.floor(Date.now() / 1000));
  }

  /** Anthropic has no embeddings API: always a 400 `unsupported_capability`. */
  async embed(_request: EmbeddingsRequest, _call: ProviderCall): Promise<EmbeddingsResponse> {
    throw invalidChatRequestError(
      'anthropic has no embeddings api; route embeddings to another provider',
      'unsupported_capability',
    );
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(request: ChatRequest, call: ProviderCall, stream: boolean): Promise<UpstreamResponse> {
    let body = toAnthropicRequest(request, call.deployment.model);
    if (call.promptCache) body = applyPromptCacheBreakpoints(body);
    if (stream) body.stream = true;
    const headers: Record<string, string> = {
      ...call.headers,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
      'anthropic-version': this.spec.apiVersion ?? anthropicDefaultApiVersion,
    };
    if (call.apiKey) headers['x-api-key'] = call.apiKey;
    if (call.traceparent) headers.traceparent = call.traceparent;
    const baseUrl = (call.baseUrl ?? this.spec.baseUrl ?? anthropicDefaultBaseUrl).replace(/\/+$/, '');
    const response = await sendUpstreamRequest(this.agent, 'anthropic', `${baseUrl}/v1/messages`, {
      headers,
      body: JSON.stringify(body),
      signal: call.signal,
    });
    if (response.status >= 200 && response.status < 300) return response;
    throw await anthropicStatusError(response);
  }
}

async function anthropicStatusError(response: UpstreamResponse): Promise<UpstreamError> {
  const retryAfterMs = parseRetryAfter(response.headers, Date.now());
  const text = await response.text();
  let message = text.trim().slice(0, 500) || 'no error body';
  try {
    const parsed = JSON.parse(text) as Partial<AnthropicErrorBody>;
    if (parsed.error?.message) message = `${parsed.error.type}: ${parsed.error.message}`;
  } catch {
    // Not JSON (a proxy's HTML page, say): the raw text is the best message there is.
  }
  return upstreamErrorFromStatus(
    'anthropic',
    response.status,
    message.replace(/\s+/g, ' ').trim(),
    retryAfterMs,
  );
}
