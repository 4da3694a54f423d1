import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerStore } from '../stores/ledger-store.ts';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';
import { migratePostgres } from '../stores/postgres/migrations.ts';
import { PostgresLedgerStore } from '../stores/postgres/postgres-ledger-store.ts';
import { PostgresPolicyVersionStore } from '../stores/postgres/postgres-policy-version-store.ts';
import { createPostgresPool } from '../stores/postgres/postgres-pool.ts';
import { openStateDatabase, stateDatabaseFile } from '../stores/sqlite/open-state-database.ts';
import { SqliteLedgerStore } from '../stores/sqlite/sqlite-ledger-store.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';

/** The `parseArgs` options that pick the store, shared by the commands that use it. */
export const storeFlagOptions = {
  'state-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'database-schema': { type: 'string' },
} as const;

/** Usage lines for `storeFlagOptions`. */
export const storeFlagUsage = `  --state-dir <dir>      state directory of the SQLite store (env SWITCHYARD_STATE_DIR, default .switchyard)
  --database-url <url>   Postgres instead (env SWITCHYARD_DATABASE_URL)
  --database-schema <s>  its schema (env SWITCHYARD_DATABASE_SCHEMA)`;

/** The values of `storeFlagOptions`. */
export interface StoreFlags {
  'state-dir'?: string | undefined;
  'database-url'?: string | undefined;
  'database-schema'?: string | undefined;
}

/** Policy versions, rollouts and audit, plus the ledger rollouts are judged by. */
export interface LifecycleStores {
  kind: 'sqlite' | 'postgres';
  versions: PolicyVersionStore;
  ledger: LedgerStore;
  /** Closes the database the stores share. */
  close(): Promise<void>;
}

/**
 * Opens the policy lifecycle's stores where the gateway keeps them: Postgres when a database URL is
 * given (flag or `SWITCHYARD_DATABASE_URL`, migrated here), else the SQLite file in the state
 * directory. The CLI and a running server share the same data either way.
 */
export async function openLifecycleStores(
  flags: StoreFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LifecycleStores> {
  const url = flags['database-url'] ?? (env.SWITCHYARD_DATABASE_URL || undefined);
  if (url) {
    const pool = createPostgresPool(url, {
      schema: flags['database-schema'] ?? (env.SWITCHYARD_DATABASE_SCHEMA || undefined),
      max: 2,
    });
    try {
      await migratePostgres(pool);
    } catch (err) {
      await pool.end();
      throw new Error(`\`SWITCHYARD_DATABASE_URL\`: ${(err as Error).message}`);
    }
    return {
      kind: 'postgres',
      versions: new PostgresPolicyVersionStore(pool),
      ledger: new PostgresLedgerStore(pool),
      close: () => pool.end(),
    };
  }
  const db = openStateDatabase(flags['state-dir'] ?? env.SWITCHYARD_STATE_DIR ?? '.switchyard');
  return {
    kind: 'sqlite',
    versions: new SqlitePolicyVersionStore(db),
    ledger: new SqliteLedgerStore(db),
    close: async () => db.close(),
  };
}

/**
 * Like `openLifecycleStores`, but undefined when there is nothing to open: no database URL and no
 * SQLite file in the state directory yet. For commands that only use the store when there is one
 * (the eval gate in CI must not leave a state directory behind).
 */
export async function openLifecycleStoresIfPresent(
  flags: StoreFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LifecycleStores | undefined> {
  const url = flags['database-url'] ?? (env.SWITCHYARD_DATABASE_URL || undefined);
  const stateDir = flags['state-dir'] ?? env.SWITCHYARD_STATE_DIR ?? '.switchyard';
  if (!url && !existsSync(join(stateDir, stateDatabaseFile))) return undefined;
  return openLifecycleStores(flags, env);
}
