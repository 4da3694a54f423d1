import {
  assertValidLedgerQuery,
  compareLedgerAggregates,
  type LedgerAggregate,
  type LedgerDimension,
  type LedgerQuery,
} from './ledger-store.ts';

/** The `usage_ledger` column of each ledger dimension (the same in SQLite and Postgres). */
export const ledgerDimensionColumns: Record<LedgerDimension, string> = {
  tenant: 'tenant',
  key: 'key_id',
  route: 'route_id',
  model: 'logical_model',
  deployment: 'deployment',
  policy: 'policy_version',
  arm: 'experiment_arm',
  outcome: 'outcome',
  cache: 'cache_status',
};

/** A statement and its parameters. */
export interface LedgerSql {
  sql: string;
  params: (string | number)[];
}

/**
 * The aggregate query of `LedgerStore.query` in SQL that SQLite and Postgres both run: `placeholder`
 * writes the n-th parameter (`?n` or `$n`). Percentiles are nearest rank, computed with window
 * functions and integer arithmetic (⌈n/2⌉ and ⌈95n/100⌉) so both databases pick the same row.
 * Validates the query first; dimension names map to fixed column names, never to user text.
 */
export function ledgerAggregateSql(query: LedgerQuery, placeholder: (n: number) => string): LedgerSql {
  assertValidLedgerQuery(query);
  const params: (string | number)[] = [query.fromMs, query.toMs, query.bucketMs ?? query.fromMs];
  const bucketParam = `cast(${placeholder(3)} as bigint)`;
  const bucket = query.bucketMs === undefined ? bucketParam : `(time_ms / ${bucketParam}) * ${bucketParam}`;
  const groups = query.groupBy.map((d, i) => `${ledgerDimensionColumns[d]} as g${i}`);
  const where = Object.entries(query.where ?? {}).map(([d, value]) => {
    params.push(value);
    return `and ${ledgerDimensionColumns[d as LedgerDimension]} = ${placeholder(params.length)}`;
  });
  const keys = [...query.groupBy.map((_, i) => `g${i}`), 'bucket'];
  const partition = `partition by ${[...keys, 'served'].join(', ')}`;
  const sql = `
    with base as (
      select ${[...groups, `${bucket} as bucket`].join(', ')},
        latency_ms, outcome, cache_status, estimated, escalations, input_tokens, output_tokens, cached_tokens, cost_usd,
        saved_cost_usd,
        case when outcome = 'denied' then 0 else 1 end as served
      from usage_ledger
      where time_ms >= ${placeholder(1)} and time_ms < ${placeholder(2)} ${where.join(' ')}
    ),
    ranked as (
      select base.*,
        row_number() over (${partition} order by latency_ms) as rn,
        count(*) over (${partition}) as n
      from base
    )
    select ${keys.join(', ')},
      count(*) as requests,
      sum(case when outcome in ('error', 'timeout') then 1 else 0 end) as errors,
      sum(case when outcome = 'timeout' then 1 else 0 end) as timeouts,
      sum(case when outcome = 'cancelled' then 1 else 0 end) as cancelled,
      sum(case when outcome = 'denied' then 1 else 0 end) as denied,
      sum(case when cache_status = 'hit' then 1 else 0 end) as cache_hits,
      sum(case when escalations > 0 then 1 else 0 end) as escalated,
      sum(case when estimated then 1 else 0 end) as estimated,
      sum(input_tokens) as input_tokens,
      sum(output_tokens) as output_tokens,
      sum(cached_tokens) as cached_tokens,
      sum(cost_usd) as cost_usd,
      sum(saved_cost_usd) as saved_cost_usd,
      min(case when served = 1 and rn = (n + 1) / 2 then latency_ms end) as p50,
      min(case when served = 1 and rn = (n * 95 + 99) / 100 then latency_ms end) as p95
    from ranked
    group by ${keys.join(', ')}`;
  return { sql, params };
}

/** Aggregates from the rows `ledgerAggregateSql` selects (numbers may arrive as strings from Postgres). */
export function toLedgerAggregates(
  query: LedgerQuery,
  rows: readonly Record<string, unknown>[],
): LedgerAggregate[] {
  const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return rows
    .map((r) => ({
      bucketStartMs: Number(r.bucket),
      group: Object.fromEntries(
        query.groupBy.map((d, i) => [d, (r[`g${i}`] as string | null | undefined) ?? null]),
      ),
      requests: Number(r.requests),
      errors: Number(r.errors),
      timeouts: Number(r.timeouts),
      cancelled: Number(r.cancelled),
      denied: Number(r.denied),
      cacheHits: Number(r.cache_hits),
      escalated: Number(r.escalated),
      estimated: Number(r.estimated),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      cachedTokens: Number(r.cached_tokens),
      costUsd: Number(r.cost_usd),
      savedCostUsd: Number(r.saved_cost_usd),
      latencyP50Ms: nullableNumber(r.p50),
      latencyP95Ms: nullableNumber(r.p95),
    }))
    .sort(compareLedgerAggregates(query.groupBy));
}
