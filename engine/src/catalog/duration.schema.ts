import { z } from 'zod';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `10m`, `1h`, `7d` (or a bare number of milliseconds) to milliseconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * units[m[2]!]!;
}

/** A duration such as `30s`, `10m`, `1h` or `7d`, converted to milliseconds. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like \`30s\`, \`10m\`, \`1h\` or \`7d\`, got \`${v}\``,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'a duration: `500ms`, `30s`, `10m`, `1h`, `7d`, or milliseconds' });
