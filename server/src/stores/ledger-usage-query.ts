import { parseDuration } from '@switchyard/engine';
import { type LedgerDimension, type LedgerQuery, ledgerDimensions } from './ledger-store.ts';

/** A usage query as the admin API and the CLI take it: text, as typed. */
export interface UsageQueryText {
  /** Comma-separated dimensions, e.g. `tenant,model`. */
  groupBy?: string | undefined;
  /** Start: ISO 8601 date or date-time, epoch ms, or a duration ago (`24h`). Default: 24 h ago. */
  from?: string | undefined;
  /** End (exclusive), same forms. Default: now. */
  to?: string | undefined;
  /** Time bucket width, e.g. `1h`, `15m`, `1d`. Default: one bucket for the whole range. */
  bucket?: string | undefined;
  /** Only rows with these dimension values. */
  where?: Partial<Record<string, string>> | undefined;
}

/** A usage query that cannot be answered; `param` names the field at fault. */
export class UsageQueryError extends Error {
  readonly param: string;
  readonly detail: string;
  override name = 'UsageQueryError';
  constructor(param: string, detail: string) {
    super(`invalid \`${param}\`: ${detail}`);
    this.param = param;
    this.detail = detail;
  }
}

/** Most time buckets one query may return per group. */
export const maxUsageBuckets = 10_000;

const dimensionList = Object.keys(ledgerDimensions).join(', ');

function isDimension(name: string): name is LedgerDimension {
  return Object.hasOwn(ledgerDimensions, name);
}

function parseTime(param: string, text: string, nowMs: number): number {
  const t = text.trim();
  if (/^\d{10,}$/.test(t)) return Number(t);
  const ago = parseDuration(t);
  if (ago !== undefined && !/^\d+$/.test(t)) return nowMs - ago;
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageQueryError(
    param,
    `expected an ISO 8601 date or date-time, epoch milliseconds, or a duration ago such as \`24h\`, got \`${text}\``,
  );
}

/**
 * Turns the text of a usage query into a `LedgerQuery`, or throws a `UsageQueryError` saying which
 * field is wrong and what was expected (unknown dimensions, unreadable times, an empty range, a
 * bucket that is not a duration or makes more than `maxUsageBuckets` buckets).
 */
export function parseUsageQuery(text: UsageQueryText, nowMs: number): LedgerQuery {
  const groupBy: LedgerDimension[] = [];
  for (const raw of (text.groupBy ?? '').split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isDimension(name))
      throw new UsageQueryError('groupBy', `expected dimensions among ${dimensionList}, got \`${name}\``);
    if (!groupBy.includes(name)) groupBy.push(name);
  }
  const toMs = text.to ? parseTime('to', text.to, nowMs) : nowMs;
  const fromMs = text.from ? parseTime('from', text.from, nowMs) : toMs - 86_400_000;
  if (!(toMs > fromMs))
    throw new UsageQueryError(
      'to',
      `expected \`to\` after \`from\`, got ${new Date(fromMs).toISOString()} .. ${new Date(toMs).toISOString()}`,
    );
  let bucketMs: number | undefined;
  if (text.bucket !== undefined && text.bucket !== '') {
    const ms = parseDuration(text.bucket);
    if (ms === undefined || !Number.isInteger(ms) || ms < 1000 || /^\d+$/.test(text.bucket.trim()))
      throw new UsageQueryError(
        'bucket',
        `expected a duration such as \`1h\`, \`15m\` or \`1d\`, got \`${text.bucket}\``,
      );
    if ((toMs - fromMs) / ms > maxUsageBuckets)
      throw new UsageQueryError(
        'bucket',
        `\`${text.bucket}\` makes more than ${maxUsageBuckets} buckets over this range; use a wider bucket or a shorter range`,
      );
    bucketMs = ms;
  }
  const where: Partial<Record<LedgerDimension, string>> = {};
  for (const [name, value] of Object.entries(text.where ?? {})) {
    if (value === undefined) continue;
    if (!isDimension(name))
      throw new UsageQueryError(name, `expected a filter among ${dimensionList}, got \`${name}\``);
    where[name] = value;
  }
  return { groupBy, fromMs, toMs, bucketMs, where: Object.keys(where).length > 0 ? where : undefined };
}
