import { describe, expect, it } from 'vitest';
import { formatKeyCap, keyCapsSchema, parseKeyCap } from './key-cap.ts';

describe('key caps', () => {
  it('parses the CLI form and writes it back', () => {
    expect(parseKeyCap('usd=5/day')).toEqual({ window: 'day', usd: 5 });
    expect(parseKeyCap('tokens=200000/hour')).toEqual({ window: 'hour', tokens: 200_000 });
    expect(parseKeyCap(' requests=10/minute ')).toEqual({ window: 'minute', requests: 10 });
    expect(parseKeyCap('usd=0.25/month')).toEqual({ window: 'month', usd: 0.25 });
    expect(['usd=5/day', 'tokens=200000/hour'].map((t) => formatKeyCap(parseKeyCap(t)))).toEqual([
      'usd=5/day',
      'tokens=200000/hour',
    ]);
  });

  it('refuses what is not one unit, one amount and one window', () => {
    expect(() => parseKeyCap('usd=5')).toThrow('expected a cap like `usd=5/day`');
    expect(() => parseKeyCap('euros=5/day')).toThrow('expected a cap like');
    expect(() => parseKeyCap('tokens=1.5/day')).toThrow('invalid cap `tokens=1.5/day`');
    expect(keyCapsSchema.safeParse([{ window: 'day', usd: 1, tokens: 5 }]).success).toBe(false);
    expect(
      keyCapsSchema.safeParse([
        { window: 'day', usd: 1 },
        { window: 'day', usd: 2 },
      ]).success,
    ).toBe(false);
    expect(
      keyCapsSchema.safeParse([
        { window: 'day', usd: 1 },
        { window: 'day', tokens: 2 },
      ]).success,
    ).toBe(true);
  });
});
