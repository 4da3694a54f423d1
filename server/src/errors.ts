import type { Denial } from '@switchyard/engine';
import type { FastifyReply } from 'fastify';
import { anthropicErrorBody } from './providers/anthropic/translate-inbound.ts';
import { UpstreamError } from './providers/provider.ts';

/** One HTTP error the gateway can answer with. `message` is a template: `{name}` is filled in. */
export interface HttpErrorEntry {
  status: number;
  /** OpenAI error `type`. */
  type: string;
  message: string;
}

/**
 * Every HTTP error code the gateway itself produces, with its status, OpenAI error type and message
 * template. `docs/errors.md` is kept in sync with it by a test: add a code here, document it there.
 * Upstream failures keep the code their adapter gave them; the common ones are listed here too.
 */
export const httpErrorCatalog = {
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    message: 'the request body is not valid JSON: {detail}',
  },
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'invalid `{param}`: {detail}' },
  unsupported_capability: {
    status: 400,
    type: 'invalid_request_error',
    message: 'no deployment of the model can serve this request: {detail}',
  },
  context_length_exceeded: {
    status: 400,
    type: 'invalid_request_error',
    message: 'the request is longer than the model allows: {detail}',
  },
  missing_api_key: {
    status: 401,
    type: 'authentication_error',
    message: 'no api key; send `Authorization: Bearer <key>` or `x-api-key: <key>`',
  },
  invalid_api_key: {
    status: 401,
    type: 'authentication_error',
    message: 'the api key is not valid; check it or create one with `switchyard keys create`',
  },
  api_key_expired: {
    status: 401,
    type: 'authentication_error',
    message: 'the api key `{prefix}…` expired at {expiresAt}',
  },
  api_key_disabled: {
    status: 401,
    type: 'authentication_error',
    message: 'the api key `{prefix}…` is disabled',
  },
  invalid_admin_token: {
    status: 401,
    type: 'authentication_error',
    message: 'the admin token is missing or wrong; send `Authorization: Bearer $SWITCHYARD_ADMIN_TOKEN`',
  },
  model_not_allowed_for_key: {
    status: 403,
    type: 'permission_error',
    message: 'this api key may not use model `{model}`',
  },
  tenant_not_allowed: { status: 403, type: 'permission_error', message: '{detail}' },
  model_not_allowed: { status: 403, type: 'permission_error', message: '{detail}' },
  model_not_found: { status: 404, type: 'invalid_request_error', message: '{detail}' },
  not_found: { status: 404, type: 'invalid_request_error', message: 'no route for `{method} {path}`' },
  admin_disabled: {
    status: 404,
    type: 'invalid_request_error',
    message: 'the admin api is disabled; set `SWITCHYARD_ADMIN_TOKEN` to enable it',
  },
  key_not_found: { status: 404, type: 'invalid_request_error', message: 'no api key with id `{id}`' },
  policy_version_not_found: {
    status: 404,
    type: 'invalid_request_error',
    message: 'no published policy version `{ref}`',
  },
  decision_not_found: {
    status: 404,
    type: 'invalid_request_error',
    message: 'no decision of request `{requestId}` is held; the last {capacity} finished requests are kept',
  },
  rollout_not_found: {
    status: 404,
    type: 'invalid_request_error',
    message: 'policy `{name}` has no active rollout',
  },
  rollout_refused: { status: 409, type: 'invalid_request_error', message: '{detail}' },
  verdict_already_attached: {
    status: 409,
    type: 'invalid_request_error',
    message: 'policy version `{version}` already has a gate verdict; verdicts are attached once',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    message: '`{method}` is not allowed on `{path}`; use {allowed}',
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    message: 'the request body is larger than the limit of {limit} bytes',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    message: 'expected `content-type: application/json`, got `{contentType}`',
  },
  policy_invalid: {
    status: 422,
    type: 'invalid_request_error',
    message: 'the policy has {count} error(s); the running policy was kept',
  },
  policy_not_publishable: {
    status: 422,
    type: 'invalid_request_error',
    message: 'the policy has {count} error(s) and was not published',
  },
  quota_exceeded: { status: 429, type: 'insufficient_quota', message: '{detail}' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', message: '{detail}' },
  internal_error: {
    status: 500,
    type: 'api_error',
    message: 'internal error; the request id is `{requestId}`',
  },
  upstream_server_error: { status: 502, type: 'upstream_error', message: '{detail}' },
  upstream_auth_failed: { status: 502, type: 'upstream_error', message: '{detail}' },
  upstream_unreachable: { status: 502, type: 'upstream_error', message: '{detail}' },
  upstream_protocol_error: { status: 502, type: 'upstream_error', message: '{detail}' },
  upstream_overloaded: { status: 503, type: 'upstream_error', message: '{detail}' },
  no_healthy_deployment: { status: 503, type: 'service_unavailable_error', message: '{detail}' },
  circuit_open: {
    status: 503,
    type: 'service_unavailable_error',
    message: 'the circuit breaker of deployment `{deployment}` is open; retry after {seconds} s',
  },
  deployment_saturated: { status: 503, type: 'service_unavailable_error', message: '{detail}' },
  limit_store_unavailable: {
    status: 503,
    type: 'service_unavailable_error',
    message: 'the shared limit store is unavailable and tenant `{tenant}` fails closed; retry shortly',
  },
  policy_not_loaded: {
    status: 503,
    type: 'service_unavailable_error',
    message: 'no policy is loaded yet; try again shortly',
  },
  shutting_down: {
    status: 503,
    type: 'service_unavailable_error',
    message: 'the gateway is shutting down; retry on another replica',
  },
  upstream_timeout: { status: 504, type: 'upstream_error', message: '{detail}' },
} as const satisfies Record<string, HttpErrorEntry>;

/** A code of the HTTP error catalog. */
export type HttpErrorCode = keyof typeof httpErrorCatalog;

/** An error answered to the client in OpenAI's shape (or Anthropic's on `/v1/messages`). */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  /** The request field at fault, dotted (`messages.0.role`), or null. */
  readonly param: string | null;
  /** Sent as `Retry-After` (rounded up to seconds) with 429 and 503. */
  readonly retryAfterMs?: number;
  /** Extra response headers (the `x-ratelimit-*` of a 429). */
  readonly headers?: Readonly<Record<string, string>>;
  override name = 'HttpError';
  constructor(
    message: string,
    status: number,
    type: string,
    code: string,
    param: string | null = null,
    retryAfterMs?: number,
    headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.retryAfterMs = retryAfterMs;
    this.headers = headers;
  }
}

/** Builds an `HttpError` from the catalog, filling `{name}` placeholders from `vars`. */
export function httpError(
  code: HttpErrorCode,
  vars: Readonly<Record<string, string | number>> = {},
  options: {
    param?: string | null;
    retryAfterMs?: number | undefined;
    headers?: Readonly<Record<string, string>> | undefined;
  } = {},
): HttpError {
  const entry: HttpErrorEntry = httpErrorCatalog[code];
  const message = entry.message.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
  return new HttpError(
    message,
    entry.status,
    entry.type,
    code,
    options.param ?? null,
    options.retryAfterMs,
    options.headers,
  );
}

/** Maps an engine denial to the error the client sees. */
export function httpErrorFromDenial(denial: Denial): HttpError {
  const entry: HttpErrorEntry = httpErrorCatalog[denial.code];
  return new HttpError(denial.message, denial.status, entry.type, denial.code, null, denial.retryAfterMs);
}

/** Maps an upstream failure to the error the client sees (the adapter already chose status and code). */
export function httpErrorFromUpstream(err: UpstreamError): HttpError {
  return new HttpError(err.message, err.status, err.type, err.code, null, err.retryAfterMs);
}

/** The OpenAI error body: `{"error":{"message","type","param","code"}}`. */
export function openAiErrorBody(err: HttpError): {
  error: { message: string; type: string; param: string | null; code: string };
} {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

/** Which shape a route answers errors in. */
export type ErrorShape = 'openai' | 'anthropic';

/** Sends an error in the route's shape, with `Retry-After` when the error says when to retry. */
export function sendHttpError(
  reply: FastifyReply,
  err: HttpError,
  shape: ErrorShape = 'openai',
): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  if (err.retryAfterMs !== undefined && (err.status === 429 || err.status === 503)) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  }
  reply.code(err.status);
  return reply.send(
    shape === 'anthropic' ? anthropicErrorBody(err.status, err.message) : openAiErrorBody(err),
  );
}

interface ErrorWithCode {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/**
 * Classifies anything thrown while handling a request: our own errors as they are, Fastify's body
 * parsing errors as 400/413/415, other client errors Fastify flags with a 4xx status as 400-class,
 * and everything else as a 500 (a bug; the caller logs it).
 */
export function toHttpError(
  err: unknown,
  context: { bodyLimit: number; requestId: string; contentType?: string | undefined },
): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof UpstreamError) return httpErrorFromUpstream(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorWithCode;
  const detail = typeof e.message === 'string' ? lowerFirst(e.message) : 'unreadable body';
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return httpError('request_too_large', { limit: context.bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return httpError('unsupported_media_type', {
        contentType: (context.contentType ?? 'none').slice(0, 100),
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return httpError('invalid_json', { detail: 'the body is empty' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return httpError('invalid_json', { detail });
  }
  if (err instanceof SyntaxError) return httpError('invalid_json', { detail });
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return httpError('request_too_large', { limit: context.bodyLimit });
  if (status >= 400 && status < 500) {
    return new HttpError(
      detail,
      status === 404 || status === 405 ? status : 400,
      'invalid_request_error',
      'invalid_request',
    );
  }
  return httpError('internal_error', { requestId: context.requestId });
}

function lowerFirst(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.charAt(0).toLowerCase() + line.slice(1);
}
