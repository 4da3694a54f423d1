import type { ProviderSpec } from '@switchyard/engine';
import type { Agent } from 'undici';
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from '../chat-types.ts';
import { type ChatStream, type ProviderAdapter, type ProviderCall, UpstreamError } from '../provider.ts';
import { sendUpstreamRequest, type UpstreamResponse } from '../send-upstream-request.ts';
import { parseSse } from '../sse-parser.ts';
import { createUpstreamAgent } from '../upstream-agent.ts';
import { upstreamErrorFromGemini } from './gemini-error.ts';
import { openGeminiChatStream } from './stream.ts';
import { toGeminiBatchEmbedRequest, toGeminiRequest } from './translate-request.ts';
import { fromGeminiBatchEmbedResponse, fromGeminiResponse } from './translate-response.ts';
import type { GeminiBatchEmbedResponse, GeminiResponse } from './wire.ts';

/** The Gemini API origin, used when the provider declares no `baseUrl`. */
export const geminiDefaultBaseUrl = 'https://generativelanguage.googleapis.com';

/** Options of a Gemini adapter. */
export interface GeminiAdapterOptions {
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * Talks to the Gemini API (`/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
 * `:batchEmbedContents`), translating from and to OpenAI's shapes. One keep-alive connection pool
 * per adapter; aborting a call's signal closes its socket.
 */
export class GeminiAdapter implements ProviderAdapter {
  private readonly spec: ProviderSpec;
  private readonly agent: Agent;

  constructor(spec: ProviderSpec, options: GeminiAdapterOptions = {}) {
    this.spec = spec;
    this.agent = createUpstreamAgent({
      maxConnections: spec.maxConnections,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  }

  /** A non-streamed completion. */
  async chat(request: ChatRequest, call: ProviderCall): Promise<ChatCompletion> {
    const response = await this.post(call, 'generateContent', toGeminiRequest(request), false);
    const body = await readJson<GeminiResponse>(response);
    return fromGeminiResponse(body, {
      id: `chatcmpl-${call.requestId}`,
      model: call.deployment.model,
      createdSeconds: nowSeconds(),
    });
  }

  /** A streamed completion; resolves after a 2xx answer and its first event. */
  async chatStream(request: ChatRequest, call: ProviderCall): Promise<ChatStream> {
    const response = await this.post(call, 'streamGenerateContent?alt=sse', toGeminiRequest(request), true);
    return openGeminiChatStream(parseSse(response.body), {
      id: `chatcmpl-${call.requestId}`,
      model: call.deployment.model,
      createdSeconds: nowSeconds(),
    });
  }

  /** Embeddings through `batchEmbedContents`, one request per input. */
  async embed(request: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    const model = call.deployment.model;
    const response = await this.post(
      call,
      'batchEmbedContents',
      toGeminiBatchEmbedRequest(request, model),
      false,
    );
    return fromGeminiBatchEmbedResponse(await readJson<GeminiBatchEmbedResponse>(response), request, model);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async post(
    call: ProviderCall,
    method: string,
    body: unknown,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      ...call.headers,
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (call.apiKey) headers['x-goog-api-key'] = call.apiKey;
    if (call.traceparent) headers.traceparent = call.traceparent;
    const baseUrl = (call.baseUrl ?? this.spec.baseUrl ?? geminiDefaultBaseUrl).replace(/\/+$/, '');
    const model = call.deployment.model.replace(/^models\//, '');
    const response = await sendUpstreamRequest(
      this.agent,
      'gemini',
      `${baseUrl}/v1beta/models/${model}:${method}`,
      {
        headers,
        body: JSON.stringify(body),
        signal: call.signal,
      },
    );
    if (response.status >= 200 && response.status < 300) return response;
    throw upstreamErrorFromGemini(response.status, await response.text(), response.headers);
  }
}

async function readJson<T>(response: UpstreamResponse): Promise<T> {
  const text = await response.text(Number.POSITIVE_INFINITY);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UpstreamError(
      'gemini sent an unreadable response body',
      'protocol',
      502,
      'upstream_error',
      'upstream_protocol_error',
    );
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
