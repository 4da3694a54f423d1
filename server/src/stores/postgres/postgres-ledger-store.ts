import type { Pool } from 'pg';
import { ledgerAggregateSql, toLedgerAggregates } from '../ledger-aggregate-sql.ts';
import type { LedgerAggregate, LedgerQuery, LedgerRow, LedgerStore } from '../ledger-store.ts';

/** Each column with its array type for `unnest`, and how a row fills it. */
const columns: readonly [string, string, (r: LedgerRow) => unknown][] = [
  ['row_id', 'text', (r) => r.rowId ?? r.requestId],
  ['request_id', 'text', (r) => r.requestId],
  ['time_ms', 'bigint', (r) => r.time],
  ['tenant', 'text', (r) => r.tenant],
  ['key_id', 'text', (r) => r.keyId],
  ['route_id', 'text', (r) => r.routeId ?? null],
  ['logical_model', 'text', (r) => r.logicalModel ?? null],
  ['deployment', 'text', (r) => r.deployment ?? null],
  ['policy_version', 'text', (r) => r.policyVersion],
  ['experiment_arm', 'text', (r) => r.experimentArm ?? null],
  ['input_tokens', 'bigint', (r) => r.inputTokens],
  ['output_tokens', 'bigint', (r) => r.outputTokens],
  ['cached_tokens', 'bigint', (r) => r.cachedTokens],
  ['cost_usd', 'float8', (r) => r.costUsd],
  ['estimated', 'boolean', (r) => r.estimated],
  ['latency_ms', 'float8', (r) => r.latencyMs],
  ['ttft_ms', 'float8', (r) => r.ttftMs ?? null],
  ['status', 'integer', (r) => r.status],
  ['outcome', 'text', (r) => r.outcome],
  ['retries', 'integer', (r) => r.retries],
  ['escalations', 'integer', (r) => r.escalations],
  ['cache_status', 'text', (r) => r.cacheStatus],
  ['saved_cost_usd', 'float8', (r) => r.savedCostUsd ?? 0],
];

/** One statement for a batch of any size: a parameter per column, each an array (`unnest`). */
const insertSql = `insert into usage_ledger (${columns.map(([name]) => name).join(', ')})
  select * from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  on conflict (row_id) do nothing`;

/**
 * The usage ledger in Postgres (table `usage_ledger`, see `migratePostgres`), for gateways that
 * scale out. A batch is one `insert … select from unnest(…)` statement, atomic and idempotent per
 * row key (`rowId ?? requestId`). The pool is owned by the caller: `close()` leaves it open.
 */
export class PostgresLedgerStore implements LedgerStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Inserts the rows in one statement. */
  async append(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      insertSql,
      columns.map(([, , value]) => rows.map(value)),
    );
  }

  /** Aggregates with one SQL query. */
  async query(query: LedgerQuery): Promise<LedgerAggregate[]> {
    const { sql, params } = ledgerAggregateSql(query, (n) => `$${n}`);
    const { rows } = await this.#pool.query(sql, params);
    return toLedgerAggregates(query, rows);
  }

  /** The pool belongs to whoever created it; nothing to release here. */
  async close(): Promise<void> {}
}
