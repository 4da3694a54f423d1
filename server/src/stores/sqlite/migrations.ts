import type { DatabaseSync } from 'node:sqlite';

/** One schema change of the state database. Versions only grow; a released migration never changes. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The state database's schema, in order. Later issues append (ledger, policy versions, audit…). */
export const migrations: readonly Migration[] = [
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
        allowed_models text,
        expires_at integer,
        disabled integer not null default 0,
        created_at integer not null,
        last_used_at integer
      );
      create index api_keys_by_tenant on api_keys (tenant, created_at);
    `,
  },
  {
    version: 2,
    name: 'api key caps',
    sql: 'alter table api_keys add column caps text',
  },
];

/**
 * Applies the migrations the database has not seen, each in its own immediate transaction that
 * re-checks the version, so a server and a CLI opening the same file at once apply each just once.
 * Returns the versions applied now.
 */
export function migrate(db: DatabaseSync, all: readonly Migration[] = migrations): number[] {
  db.exec(`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at integer not null
  )`);
  const isApplied = db.prepare('select 1 as applied from schema_migrations where version = ?');
  const record = db.prepare('insert into schema_migrations (version, name, applied_at) values (?, ?, ?)');
  const applied: number[] = [];
  for (const m of all) {
    if (isApplied.get(m.version)) continue;
    db.exec('begin immediate');
    try {
      if (!isApplied.get(m.version)) {
        db.exec(m.sql);
        record.run(m.version, m.name, Date.now());
        applied.push(m.version);
      }
      db.exec('commit');
    } catch (err) {
      db.exec('rollback');
      throw new Error(`state database migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
  }
  return applied;
}
