import { UpstreamError } from '../provider.ts';
import { parseRetryAfter, upstreamErrorFromStatus } from '../upstream-error-map.ts';
import type { GeminiErrorBody } from './wire.ts';

type GeminiErrorDetail = GeminiErrorBody['error'];

/** Reads Google's error shape from a body; the streaming endpoint may wrap it in an array. */
export function parseGeminiError(text: string): GeminiErrorDetail | undefined {
  try {
    const parsed = JSON.parse(text) as GeminiErrorBody | GeminiErrorBody[];
    const body = Array.isArray(parsed) ? parsed[0] : parsed;
    return body?.error?.message !== undefined ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/** The `google.rpc.RetryInfo` delay (`"37s"`, `"0.5s"`) in milliseconds, if the error carries one. */
function retryInfoDelayMs(error: GeminiErrorDetail | undefined): number | undefined {
  for (const detail of error?.details ?? []) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay ?? '');
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

/**
 * Maps a Gemini error answer to what the client sees. A rejected API key is a 400
 * INVALID_ARGUMENT with reason API_KEY_INVALID on Gemini, but it is the gateway's credential, so
 * it is treated like a 401; the retry delay comes from Retry-After or from RetryInfo.
 */
export function upstreamErrorFromGemini(
  status: number,
  text: string,
  headers: Record<string, string | string[] | undefined>,
): UpstreamError {
  const error = parseGeminiError(text);
  const message = error ? `${error.status}: ${error.message}` : text.trim().slice(0, 500) || 'no error body';
  const oneLine = message.replace(/\s+/g, ' ').trim();
  if (error?.details?.some((d) => d.reason === 'API_KEY_INVALID'))
    return new UpstreamError(
      `gemini returned ${status}: ${oneLine}`,
      'status',
      502,
      'upstream_error',
      'upstream_auth_failed',
      status,
    );
  const retryAfterMs = parseRetryAfter(headers, Date.now()) ?? retryInfoDelayMs(error);
  return upstreamErrorFromStatus('gemini', status, oneLine, retryAfterMs);
}

/** An error object sent inside a 200 stream: mapped like its code, but as a `body` failure. */
export function geminiStreamError(error: GeminiErrorDetail): UpstreamError {
  const equivalentStatus = Number.isInteger(error.code) && error.code >= 400 ? error.code : 500;
  const mapped = upstreamErrorFromStatus(
    'gemini',
    equivalentStatus,
    `${error.status}: ${error.message}`,
    retryInfoDelayMs(error),
  );
  return new UpstreamError(
    `gemini stream failed: ${error.status}: ${error.message}`,
    'body',
    mapped.status,
    mapped.type,
    mapped.code,
    equivalentStatus,
    mapped.retryAfterMs,
  );
}
