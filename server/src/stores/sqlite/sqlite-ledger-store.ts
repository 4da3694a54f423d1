import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ledgerAggregateSql, toLedgerAggregates } from '../ledger-aggregate-sql.ts';
import type { LedgerAggregate, LedgerQuery, LedgerRow, LedgerStore } from '../ledger-store.ts';
import { ledgerMigrations } from './ledger-migrations.ts';
import { migrate } from './migrations.ts';

/**
 * The usage ledger in the SQLite state database (see `openStateDatabase`): the embedded default.
 * Creating the store brings the ledger's table up to date. The database is owned by the caller:
 * `close()` leaves it open for the other stores sharing it. Calls are synchronous underneath, so
 * append from a `LedgerWriter`, never on the request path.
 */
export class SqliteLedgerStore implements LedgerStore {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    migrate(db, ledgerMigrations);
    this.#insert = db.prepare(
      `insert into usage_ledger (row_id, request_id, time_ms, tenant, key_id, route_id, logical_model, deployment, policy_version,
         experiment_arm, input_tokens, output_tokens, cached_tokens, cost_usd, estimated, latency_ms, ttft_ms, status,
         outcome, retries, escalations, cache_status, saved_cost_usd)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (row_id) do nothing`,
    );
  }

  /** Inserts the rows in one transaction. */
  async append(rows: readonly LedgerRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.#db.exec('begin immediate');
    try {
      for (const r of rows) {
        this.#insert.run(
          r.rowId ?? r.requestId,
          r.requestId,
          r.time,
          r.tenant,
          r.keyId,
          r.routeId ?? null,
          r.logicalModel ?? null,
          r.deployment ?? null,
          r.policyVersion,
          r.experimentArm ?? null,
          r.inputTokens,
          r.outputTokens,
          r.cachedTokens,
          r.costUsd,
          r.estimated ? 1 : 0,
          r.latencyMs,
          r.ttftMs ?? null,
          r.status,
          r.outcome,
          r.retries,
          r.escalations,
          r.cacheStatus,
          r.savedCostUsd ?? 0,
        );
      }
      this.#db.exec('commit');
    } catch (err) {
      this.#db.exec('rollback');
      throw err;
    }
  }

  /** Aggregates with one SQL query. */
  async query(query: LedgerQuery): Promise<LedgerAggregate[]> {
    const { sql, params } = ledgerAggregateSql(query, (n) => `?${n}`);
    const rows = this.#db.prepare(sql).all(...params) as Record<string, unknown>[];
    return toLedgerAggregates(query, rows);
  }

  /** The database belongs to whoever opened it; nothing to release here. */
  async close(): Promise<void> {}
}
