import { describe, expect, it } from 'vitest';
import { formatTraceparent, isSampled, parseTraceparent } from './trace-context.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('parses a valid header and formats it back', () => {
    const context = parseTraceparent(`00-${traceId}-${spanId}-01`);
    expect(context).toEqual({ traceId, spanId, traceFlags: 1 });
    expect(formatTraceparent(context!)).toBe(`00-${traceId}-${spanId}-01`);
    expect(isSampled(context!)).toBe(true);
    expect(isSampled(parseTraceparent(`00-${traceId}-${spanId}-00`)!)).toBe(false);
  });

  it('reads a later version as version 00, ignoring what it appends', () => {
    expect(parseTraceparent(`01-${traceId}-${spanId}-01-extra`)).toEqual({ traceId, spanId, traceFlags: 1 });
  });

  it.each([
    ['missing', undefined],
    ['repeated', [`00-${traceId}-${spanId}-01`, `00-${traceId}-${spanId}-01`]],
    ['upper case', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${traceId}-${spanId}-01`],
    ['version 00 with extra fields', `00-${traceId}-${spanId}-01-x`],
    ['short', `00-${traceId}-${spanId.slice(1)}-01`],
  ])('rejects a header that is %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});
