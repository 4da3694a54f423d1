import { mkdirSync } from 'node:fs';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type { KeyStore } from '../stores/key-store.ts';
import type { LedgerStore } from '../stores/ledger-store.ts';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';
import { migratePostgres } from '../stores/postgres/migrations.ts';
import { PostgresKeyStore } from '../stores/postgres/postgres-key-store.ts';
import { PostgresLedgerStore } from '../stores/postgres/postgres-ledger-store.ts';
import { PostgresPolicyVersionStore } from '../stores/postgres/postgres-policy-version-store.ts';
import { createPostgresPool } from '../stores/postgres/postgres-pool.ts';
import { redactRedisUrl } from '../stores/redis/redis-connection.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqliteKeyStore } from '../stores/sqlite/sqlite-key-store.ts';
import { SqliteLedgerStore } from '../stores/sqlite/sqlite-ledger-store.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';

/** Where keys and the usage ledger live. */
export interface DurableStoreSettings {
  /** The state directory holding the SQLite file (used when no database URL is given). */
  stateDir: string;
  /** Postgres instead of SQLite. */
  databaseUrl?: string | undefined;
  /** The Postgres schema (created when missing). */
  databaseSchema?: string | undefined;
  /** Most Postgres connections (default 10). */
  maxConnections?: number | undefined;
}

/** Keys and the ledger, open and migrated, and the database handle behind them. */
export interface DurableStores {
  kind: 'sqlite' | 'postgres';
  keys: KeyStore;
  ledger: LedgerStore;
  /** Policy versions, rollouts and their audit log. */
  versions: PolicyVersionStore;
  /** Closes the database (the stores do not own it). */
  close(): Promise<void>;
}

/**
 * Opens keys and the usage ledger: in Postgres (schema created if missing, migrations applied,
 * safe when replicas start at once) when a database URL is given, else in the SQLite file under
 * the state directory. The server and the CLI (`keys`, `usage`) share it, so both find the same data.
 * Fails with a message naming `SWITCHYARD_DATABASE_URL` (password hidden) when Postgres cannot be reached.
 */
export async function openDurableStores(
  settings: DurableStoreSettings,
  logger?: Logger,
): Promise<DurableStores> {
  if (settings.databaseUrl) {
    const url = settings.databaseUrl;
    const schema = settings.databaseSchema;
    try {
      if (schema !== undefined) {
        const admin = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
        await admin.connect();
        try {
          await admin.query(`create schema if not exists ${schema}`);
        } catch (err) {
          // Replicas starting at once race on `if not exists`: the loser's schema exists all the same.
          const code = (err as { code?: string }).code;
          if (code !== '42P06' && code !== '23505') throw err;
        } finally {
          await admin.end();
        }
      }
      const pool = createPostgresPool(url, {
        schema,
        max: settings.maxConnections,
        onError: (err) => logger?.warn({ err }, 'postgres connection failed'),
      });
      try {
        await migratePostgres(pool);
      } catch (err) {
        await pool.end();
        throw err;
      }
      return {
        kind: 'postgres',
        keys: new PostgresKeyStore(pool),
        ledger: new PostgresLedgerStore(pool),
        versions: new PostgresPolicyVersionStore(pool),
        close: () => pool.end(),
      };
    } catch (err) {
      // Same URL shape as Redis: only the password is hidden.
      throw new Error(`\`SWITCHYARD_DATABASE_URL\` (${redactRedisUrl(url)}): ${(err as Error).message}`);
    }
  }
  mkdirSync(settings.stateDir, { recursive: true });
  const db = openStateDatabase(settings.stateDir);
  return {
    kind: 'sqlite',
    keys: new SqliteKeyStore(db),
    ledger: new SqliteLedgerStore(db),
    versions: new SqlitePolicyVersionStore(db),
    close: async () => db.close(),
  };
}
