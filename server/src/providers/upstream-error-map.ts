import { UpstreamError } from './provider.ts';

/** Parses a Retry-After header (seconds or HTTP date) or `retry-after-ms` into milliseconds. */
export function parseRetryAfter(
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): number | undefined {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * Maps an upstream's error status to what the client sees. The client's own mistakes (400, 404 for
 * an unknown upstream resource, 413, 422) pass through as invalid requests; the gateway's
 * credentials being refused (401/403) is the gateway's fault, so the client sees 502; rate limits
 * stay 429; overload and server errors become 502/503 and are retryable; upstream timeouts 504.
 */
export function upstreamErrorFromStatus(
  provider: string,
  status: number,
  upstreamMessage: string,
  retryAfterMs?: number,
  /** The request field the upstream blamed, kept for the client's invalid-request errors. */
  param?: string,
): UpstreamError {
  const message = `${provider} returned ${status}: ${upstreamMessage}`;
  const error = (
    clientStatus: number,
    type: string,
    code: string,
    extra: { retryAfterMs?: number; param?: string } = {},
  ) =>
    new UpstreamError(message, 'status', clientStatus, type, code, status, extra.retryAfterMs, extra.param);
  if (status === 429) return error(429, 'rate_limit_error', 'rate_limit_exceeded', { retryAfterMs });
  if (status === 401 || status === 403) return error(502, 'upstream_error', 'upstream_auth_failed');
  if (status === 408 || status === 504)
    return error(504, 'upstream_error', 'upstream_timeout', { retryAfterMs });
  if (status === 503 || status === 529)
    return error(503, 'upstream_error', 'upstream_overloaded', { retryAfterMs });
  if (status >= 500) return error(502, 'upstream_error', 'upstream_server_error', { retryAfterMs });
  if (status === 404) return error(404, 'invalid_request_error', 'upstream_not_found', { param });
  if (status === 413) return error(413, 'invalid_request_error', 'request_too_large', { param });
  return error(400, 'invalid_request_error', 'upstream_invalid_request', { param });
}

/** Whether a failure may be retried on the same or another deployment (before any byte reached the client). */
export function isRetryableUpstreamError(err: UpstreamError): boolean {
  if (err.kind === 'aborted' || err.kind === 'protocol') return false;
  if (err.kind === 'connect' || err.kind === 'timeout' || err.kind === 'body') return true;
  const s = err.upstreamStatus ?? err.status;
  return s === 429 || s === 408 || s >= 500;
}
