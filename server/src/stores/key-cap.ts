import { z } from 'zod';
import type { KeyCap } from './key-store.ts';

/** One per-key cap as the admin API accepts it: a window and exactly one of tokens, requests, usd. */
export const keyCapSchema = z
  .strictObject({
    window: z.enum(['minute', 'hour', 'day', 'month']),
    tokens: z.number().int().positive().optional(),
    requests: z.number().int().positive().optional(),
    usd: z.number().positive().optional(),
  })
  .refine((c) => [c.tokens, c.requests, c.usd].filter((v) => v !== undefined).length === 1, {
    error: 'a cap sets exactly one of `tokens`, `requests` or `usd`',
  });

/** The caps of one key: at most one per unit and window. */
export const keyCapsSchema = z
  .array(keyCapSchema)
  .max(16)
  .refine((caps) => new Set(caps.map(capSlot)).size === caps.length, {
    error: 'two caps share a unit and window; keep one',
  });

/** `<unit>/<window>`: two caps in the same slot would count the same thing twice. */
function capSlot(cap: KeyCap): string {
  return `${capUnit(cap)}/${cap.window}`;
}

/** What a cap counts. */
export function capUnit(cap: KeyCap): 'tokens' | 'requests' | 'usd' {
  return cap.tokens !== undefined ? 'tokens' : cap.requests !== undefined ? 'requests' : 'usd';
}

/** The cap's limit in its own unit. */
export function capLimit(cap: KeyCap): number {
  return cap.tokens ?? cap.requests ?? cap.usd ?? 0;
}

const capText = /^(tokens|requests|usd)=(\d+(?:\.\d+)?)\/(minute|hour|day|month)$/;

/**
 * Parses the CLI's form of a cap, `<unit>=<amount>/<window>` such as `usd=5/day`,
 * `tokens=200000/hour` or `requests=100/minute`; throws a one-line message otherwise.
 */
export function parseKeyCap(text: string): KeyCap {
  const m = capText.exec(text.trim());
  if (!m) {
    throw new Error(
      `expected a cap like \`usd=5/day\`, \`tokens=200000/hour\` or \`requests=100/minute\`, got \`${text}\``,
    );
  }
  const parsed = keyCapSchema.safeParse({ window: m[3], [m[1]!]: Number(m[2]) });
  if (!parsed.success)
    throw new Error(`invalid cap \`${text}\`: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
  return parsed.data;
}

/** The cap in the CLI's form, `usd=5/day`. */
export function formatKeyCap(cap: KeyCap): string {
  return `${capUnit(cap)}=${capLimit(cap)}/${cap.window}`;
}
