import { randomHex } from '../random-hex.ts';
import { formatTraceparent, parseTraceparent } from '../telemetry/trace-context.ts';

const saneRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The client's `x-request-id` when it is short and printable, else a fresh `req_…` id (`newRequestId`). */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && saneRequestId.test(header)) return header;
  return newRequestId(Date.now());
}

/**
 * A fresh request id, `req_` and 24 hex digits: the time in ms (12 digits, as in a UUIDv7), then
 * 6 random bytes. Ids sort by time, so the ledger's primary key grows at its end: with random ids
 * every insert lands on a random page of an ever larger index (on SQLite, 14 µs a row at 50k rows
 * and 61 µs at 400k, against a flat 6–7 µs in time order).
 */
export function newRequestId(nowMs: number): string {
  return `req_${Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12)}${randomHex(6)}`;
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
