import type { Migration } from './migrations.ts';

/**
 * The usage ledger's schema in the SQLite state database, applied by `SqliteLedgerStore` with the
 * state database's `migrate`. Numbered from 10001 so they never collide with the state database's
 * own migrations in the shared `schema_migrations` table. Versions only grow; a released migration
 * never changes.
 */
export const ledgerMigrations: readonly Migration[] = [
  {
    version: 10_001,
    name: 'usage ledger',
    sql: `
      create table usage_ledger (
        request_id text primary key,
        time_ms integer not null,
        tenant text not null,
        key_id text not null,
        route_id text,
        logical_model text,
        deployment text,
        policy_version text not null,
        experiment_arm text,
        input_tokens integer not null,
        output_tokens integer not null,
        cached_tokens integer not null,
        cost_usd real not null,
        estimated integer not null,
        latency_ms real not null,
        ttft_ms real,
        status integer not null,
        outcome text not null,
        retries integer not null,
        escalations integer not null,
        cache_status text not null
      );
      create index usage_ledger_by_time on usage_ledger (time_ms);
      create index usage_ledger_by_tenant on usage_ledger (tenant, time_ms);
    `,
  },
  {
    version: 10_002,
    name: 'usage ledger: cost saved by cache hits',
    sql: 'alter table usage_ledger add column saved_cost_usd real not null default 0',
  },
  {
    // Rows were keyed by request id, so a second request reusing a client's x-request-id was
    // dropped as a duplicate. SQLite cannot change a primary key in place: the table is rebuilt.
    version: 10_003,
    name: 'usage ledger: rows keyed by their own id, request ids may repeat',
    sql: `
      create table usage_ledger_next (
        row_id text primary key,
        request_id text not null,
        time_ms integer not null,
        tenant text not null,
        key_id text not null,
        route_id text,
        logical_model text,
        deployment text,
        policy_version text not null,
        experiment_arm text,
        input_tokens integer not null,
        output_tokens integer not null,
        cached_tokens integer not null,
        cost_usd real not null,
        estimated integer not null,
        latency_ms real not null,
        ttft_ms real,
        status integer not null,
        outcome text not null,
        retries integer not null,
        escalations integer not null,
        cache_status text not null,
        saved_cost_usd real not null default 0
      );
      insert into usage_ledger_next
        select request_id, request_id, time_ms, tenant, key_id, route_id, logical_model, deployment,
          policy_version, experiment_arm, input_tokens, output_tokens, cached_tokens, cost_usd, estimated,
          latency_ms, ttft_ms, status, outcome, retries, escalations, cache_status, saved_cost_usd
        from usage_ledger;
      drop table usage_ledger;
      alter table usage_ledger_next rename to usage_ledger;
      create index usage_ledger_by_time on usage_ledger (time_ms);
      create index usage_ledger_by_tenant on usage_ledger (tenant, time_ms);
      create index usage_ledger_by_request on usage_ledger (request_id);
    `,
  },
];
