import {
  assertValidLedgerQuery,
  compareLedgerAggregates,
  type LedgerAggregate,
  type LedgerDimension,
  type LedgerQuery,
  type LedgerRow,
  type LedgerStore,
  ledgerDimensions,
} from '../ledger-store.ts';

/** Options of `MemoryLedgerStore`. */
export interface MemoryLedgerStoreOptions {
  /** Rows kept; the oldest appended are forgotten beyond it (default 100 000). */
  maxRows?: number | undefined;
}

function dimensionValue(row: LedgerRow, d: LedgerDimension): string | null {
  const v = row[ledgerDimensions[d]];
  return v === undefined ? null : String(v);
}

/** The value at rank ⌈percent·n/100⌉ of ascending `sorted` (integer math, as the SQL stores do). */
function nearestRank(sorted: readonly number[], percent: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((percent * sorted.length) / 100)) - 1]!;
}

/** The usage ledger in process memory: tests and throwaway gateways. Lost on restart. */
export class MemoryLedgerStore implements LedgerStore {
  readonly #rows = new Map<string, LedgerRow>();
  readonly #maxRows: number;

  constructor(options: MemoryLedgerStoreOptions = {}) {
    this.#maxRows = options.maxRows ?? 100_000;
  }

  /** Appends rows, skipping row keys (`rowId ?? requestId`) already stored. */
  async append(rows: readonly LedgerRow[]): Promise<void> {
    for (const row of rows) {
      const key = row.rowId ?? row.requestId;
      if (!this.#rows.has(key)) this.#rows.set(key, { ...row });
    }
    for (const id of this.#rows.keys()) {
      if (this.#rows.size <= this.#maxRows) break;
      this.#rows.delete(id);
    }
  }

  /** Aggregates in memory. */
  async query(query: LedgerQuery): Promise<LedgerAggregate[]> {
    assertValidLedgerQuery(query);
    const groups = new Map<string, { bucket: number; values: (string | null)[]; rows: LedgerRow[] }>();
    for (const row of this.#rows.values()) {
      if (row.time < query.fromMs || row.time >= query.toMs) continue;
      if (Object.entries(query.where ?? {}).some(([d, v]) => dimensionValue(row, d as LedgerDimension) !== v))
        continue;
      const bucket =
        query.bucketMs === undefined ? query.fromMs : Math.floor(row.time / query.bucketMs) * query.bucketMs;
      const values = query.groupBy.map((d) => dimensionValue(row, d));
      const id = JSON.stringify([bucket, values]);
      let group = groups.get(id);
      if (!group) {
        group = { bucket, values, rows: [] };
        groups.set(id, group);
      }
      group.rows.push(row);
    }
    return [...groups.values()]
      .map(({ bucket, values, rows }) => {
        const latencies = rows
          .filter((r) => r.outcome !== 'denied')
          .map((r) => r.latencyMs)
          .sort((a, b) => a - b);
        const count = (test: (r: LedgerRow) => boolean) => rows.filter(test).length;
        const sum = (field: (r: LedgerRow) => number) => rows.reduce((total, r) => total + field(r), 0);
        return {
          bucketStartMs: bucket,
          group: Object.fromEntries(query.groupBy.map((d, i) => [d, values[i] ?? null])),
          requests: rows.length,
          errors: count((r) => r.outcome === 'error' || r.outcome === 'timeout'),
          timeouts: count((r) => r.outcome === 'timeout'),
          cancelled: count((r) => r.outcome === 'cancelled'),
          denied: count((r) => r.outcome === 'denied'),
          cacheHits: count((r) => r.cacheStatus === 'hit'),
          escalated: count((r) => r.escalations > 0),
          estimated: count((r) => r.estimated),
          inputTokens: sum((r) => r.inputTokens),
          outputTokens: sum((r) => r.outputTokens),
          cachedTokens: sum((r) => r.cachedTokens),
          costUsd: sum((r) => r.costUsd),
          savedCostUsd: sum((r) => r.savedCostUsd ?? 0),
          latencyP50Ms: nearestRank(latencies, 50),
          latencyP95Ms: nearestRank(latencies, 95),
        };
      })
      .sort(compareLedgerAggregates(query.groupBy));
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
