import { randomHex } from '../random-hex.ts';
import { formatTraceparent, parseTraceparent } from '../telemetry/trace-context.ts';

const saneRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's `x-request-id` when it is short and printable, else a fresh `req_…` id. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && saneRequestId.test(header)) return header;
  return `req_${randomHex(12)}`;
}

/**
 * The W3C `traceparent` to send upstream: the client's trace id and flags with a new span id of
 * ours as the parent, or a new sampled trace when the client sent none (or a malformed one).
 */
export function continueTrace(header: string | string[] | undefined): string {
  const parent = parseTraceparent(header);
  return formatTraceparent({
    traceId: parent?.traceId ?? nonZeroHex(16),
    spanId: nonZeroHex(8),
    traceFlags: parent?.traceFlags ?? 1,
  });
}

/** Random hex that is not all zeros (an all-zero trace or span id is invalid). */
function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomHex(bytes);
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** The trace id part of a `traceparent`. */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}
