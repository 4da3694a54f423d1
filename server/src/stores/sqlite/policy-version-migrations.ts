import type { Migration } from './migrations.ts';

/**
 * The policy lifecycle's schema in the SQLite state database (versions, stable pointers, rollouts,
 * shadow tallies, audit log), applied by `SqlitePolicyVersionStore` with the state database's
 * `migrate`. Numbered from 20001 so they never collide with the state database's or the ledger's
 * migrations in the shared `schema_migrations` table. Versions only grow; a released migration
 * never changes.
 */
export const policyVersionMigrations: readonly Migration[] = [
  {
    version: 20_001,
    name: 'policy versions, rollouts and audit log',
    sql: `
      create table policy_versions (
        seq integer primary key autoincrement,
        version text not null unique,
        hash text not null unique,
        name text not null,
        files text not null,
        git_commit text,
        author text,
        message text,
        created_at integer not null,
        verdict text
      );
      create index policy_versions_by_name on policy_versions (name, seq);
      create table policy_stable (
        name text primary key,
        version text not null references policy_versions (version),
        updated_at integer not null
      );
      create table policy_rollouts (
        seq integer primary key autoincrement,
        id text not null unique,
        name text not null,
        status text not null,
        state text not null,
        revision integer not null,
        updated_at integer not null
      );
      create index policy_rollouts_by_name on policy_rollouts (name, status);
      create table policy_rollout_shadow (
        rollout_id text not null,
        step_index integer not null,
        requests integer not null,
        rerouted integer not null,
        new_denials integer not null,
        stable_cost_usd real not null,
        predicted_cost_usd real not null,
        primary key (rollout_id, step_index)
      );
      create table policy_audit (
        seq integer primary key autoincrement,
        at integer not null,
        actor text not null,
        action text not null,
        subject text not null,
        reason text not null,
        details text
      );
      create index policy_audit_by_subject on policy_audit (subject, seq);
    `,
  },
];
