import type { Pool } from 'pg';

/** One schema change of the Postgres database. Versions only grow; a released migration never changes. */
export interface PostgresMigration {
  version: number;
  name: string;
  sql: string;
}

/** The Postgres schema, in order: keys, the usage ledger, key caps, the policy lifecycle (versions, rollouts, audit), cache savings. */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'api keys',
    sql: `
      create table api_keys (
        id text primary key,
        hash text not null unique,
        name text not null,
        tenant text not null,
        prefix text not null,
        allowed_models jsonb,
        expires_at bigint,
        disabled boolean not null default false,
        created_at bigint not null,
        last_used_at bigint,
        seq bigserial not null
      );
      create index api_keys_by_tenant on api_keys (tenant, created_at, seq);
    `,
  },
  {
    version: 2,
    name: 'usage ledger',
    sql: `
      create table usage_ledger (
        request_id text primary key,
        time_ms bigint not null,
        tenant text not null,
        key_id text not null,
        route_id text,
        logical_model text,
        deployment text,
        policy_version text not null,
        experiment_arm text,
        input_tokens bigint not null,
        output_tokens bigint not null,
        cached_tokens bigint not null,
        cost_usd double precision not null,
        estimated boolean not null,
        latency_ms double precision not null,
        ttft_ms double precision,
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
    version: 3,
    name: 'api key caps',
    sql: 'alter table api_keys add column caps jsonb',
  },
  {
    version: 4,
    name: 'policy versions, rollouts and audit log',
    sql: `
      create table policy_versions (
        seq bigserial primary key,
        version text not null unique,
        hash text not null unique,
        name text not null,
        files jsonb not null,
        git_commit text,
        author text,
        message text,
        created_at bigint not null,
        verdict jsonb
      );
      create index policy_versions_by_name on policy_versions (name, seq);
      create table policy_stable (
        name text primary key,
        version text not null references policy_versions (version),
        updated_at bigint not null
      );
      create table policy_rollouts (
        seq bigserial primary key,
        id text not null unique,
        name text not null,
        status text not null,
        state jsonb not null,
        revision integer not null,
        updated_at bigint not null
      );
      create index policy_rollouts_by_name on policy_rollouts (name, status);
      create table policy_rollout_shadow (
        rollout_id text not null,
        step_index integer not null,
        requests bigint not null,
        rerouted bigint not null,
        new_denials bigint not null,
        stable_cost_usd double precision not null,
        predicted_cost_usd double precision not null,
        primary key (rollout_id, step_index)
      );
      create table policy_audit (
        seq bigserial primary key,
        at bigint not null,
        actor text not null,
        action text not null,
        subject text not null,
        reason text not null,
        details jsonb
      );
      create index policy_audit_by_subject on policy_audit (subject, seq);
    `,
  },
  {
    version: 5,
    name: 'usage ledger: cost saved by cache hits',
    sql: 'alter table usage_ledger add column saved_cost_usd double precision not null default 0',
  },
  {
    // Rows were keyed by request id, so a second request reusing a client's x-request-id was
    // dropped as a duplicate: rows get their own key, and request ids may repeat.
    version: 6,
    name: 'usage ledger: rows keyed by their own id, request ids may repeat',
    sql: `
      alter table usage_ledger add column row_id text;
      update usage_ledger set row_id = request_id;
      alter table usage_ledger alter column row_id set not null;
      alter table usage_ledger drop constraint usage_ledger_pkey;
      alter table usage_ledger add primary key (row_id);
      create index usage_ledger_by_request on usage_ledger (request_id);
    `,
  },
];

/**
 * Applies the migrations the database (in the pool's `search_path` schema) has not seen, each in
 * its own transaction under an advisory lock of that schema, so replicas starting at once apply each
 * just once. Returns the versions applied now.
 */
export async function migratePostgres(
  pool: Pool,
  all: readonly PostgresMigration[] = postgresMigrations,
): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    for (const m of all) {
      await client.query('begin');
      try {
        await client.query(
          "select pg_advisory_xact_lock(hashtext('switchyard:' || coalesce(current_schema(), '')))",
        );
        // Created under the lock: two replicas creating it at once would collide.
        await client.query(`create table if not exists schema_migrations (
          version integer primary key,
          name text not null,
          applied_at timestamptz not null default now()
        )`);
        const seen = await client.query('select 1 from schema_migrations where version = $1', [m.version]);
        if (seen.rowCount === 0) {
          await client.query(m.sql);
          await client.query('insert into schema_migrations (version, name) values ($1, $2)', [
            m.version,
            m.name,
          ]);
          applied.push(m.version);
        }
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`postgres migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
      }
    }
  } finally {
    client.release();
  }
  return applied;
}
