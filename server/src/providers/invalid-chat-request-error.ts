import { UpstreamError } from './provider.ts';

/**
 * The client's request cannot be expressed in an upstream's wire format (an `n` the upstream cannot
 * honour, tool arguments that are not JSON…). Thrown before anything is sent, as a 400 that is
 * never retried on the same deployment.
 */
export function invalidChatRequestError(message: string, code = 'unsupported_parameter'): UpstreamError {
  return new UpstreamError(message, 'status', 400, 'invalid_request_error', code);
}
