/** Anthropic's documented error `type` for each HTTP status it uses. */
const errorTypeByStatus: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const statusByErrorType: ReadonlyMap<string, number> = new Map(
  Object.entries(errorTypeByStatus).map(([status, type]) => [type, Number(status)]),
);

/**
 * The HTTP status Anthropic pairs with an error `type`, used for errors that arrive inside a 200
 * stream; unknown types count as `api_error` (500).
 */
export function statusOfAnthropicErrorType(type: string): number {
  return statusByErrorType.get(type) ?? 500;
}

/**
 * The Anthropic error `type` for a status the gateway answers with: 503 is `overloaded_error` (what
 * Anthropic clients back off on), other 5xx `api_error`, other 4xx `invalid_request_error`.
 */
export function anthropicErrorTypeOfStatus(status: number): string {
  const known = errorTypeByStatus[status];
  if (known) return known;
  if (status === 503) return 'overloaded_error';
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}
