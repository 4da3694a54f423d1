import type { IncomingHttpHeaders } from 'node:http';
import { type Agent, request } from 'undici';
import { UpstreamError } from './provider.ts';

/** An upstream's answer once its status line and headers arrived; the body is still unread. */
export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response body, read incrementally; always consume it or call `discard()`. */
  body: AsyncIterable<Uint8Array>;
  /** Reads the whole body as text, up to `limitBytes` (error bodies are small; never use it for a stream). */
  text(limitBytes?: number): Promise<string>;
  /** Releases the body without reading it (closes the socket if the body was not finished). */
  discard(): void;
}

/** What one upstream call sends. */
export interface UpstreamRequestInit {
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/**
 * Sends one request through a provider's connection pool and resolves once the status line and
 * headers arrived. Transport failures (refused connection, reset, abort) are thrown as
 * `UpstreamError`; so are failures while the body is read later. Aborting `signal` at any time
 * destroys the socket, so the upstream stops generating at once.
 */
export async function sendUpstreamRequest(
  agent: Agent,
  provider: string,
  url: string,
  init: UpstreamRequestInit,
): Promise<UpstreamResponse> {
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      dispatcher: agent,
      method: init.method ?? 'POST',
      headers: init.headers,
      body: init.body ?? null,
      signal: init.signal,
    });
  } catch (err) {
    throw upstreamErrorFromTransport(provider, err, init.signal, false);
  }
  const body = response.body;
  return {
    status: response.statusCode,
    headers: response.headers,
    body: readBody(provider, body, init.signal),
    async text(limitBytes = 256 * 1024) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of readBody(provider, body, init.signal)) {
        chunks.push(Buffer.from(chunk));
        size += chunk.byteLength;
        if (size >= limitBytes) break;
      }
      return Buffer.concat(chunks).subarray(0, limitBytes).toString('utf8');
    },
    discard() {
      body.destroy();
    },
  };
}

async function* readBody(
  provider: string,
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw upstreamErrorFromTransport(provider, err, signal, true);
  } finally {
    // Stopping early (the consumer broke out, or an error) must not leave the upstream generating.
    body.destroy();
  }
}

/**
 * Maps a transport failure to an `UpstreamError`: the signal's own `UpstreamError` reason (set by
 * the resilience layer) wins; a `TimeoutError` reason becomes a 504 timeout; any other abort is the
 * client going away; everything else is a connection failure (502), before or after the response began.
 */
export function upstreamErrorFromTransport(
  provider: string,
  err: unknown,
  signal: AbortSignal,
  afterResponse: boolean,
): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof UpstreamError) return reason;
    if (reason instanceof Error && reason.name === 'TimeoutError')
      return new UpstreamError(
        `${provider} call timed out`,
        'timeout',
        504,
        'upstream_error',
        'upstream_timeout',
      );
    return new UpstreamError(
      `${provider} call aborted`,
      'aborted',
      499,
      'upstream_error',
      'client_closed_request',
    );
  }
  const detail =
    err instanceof Error ? ((err as Error & { code?: string }).code ?? err.message) : String(err);
  if (afterResponse)
    return new UpstreamError(
      `${provider} connection lost mid-response: ${detail}`,
      'connect',
      502,
      'upstream_error',
      'upstream_unreachable',
    );
  return new UpstreamError(
    `${provider} could not be reached: ${detail}`,
    'connect',
    502,
    'upstream_error',
    'upstream_unreachable',
  );
}
