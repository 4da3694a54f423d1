import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { migratePostgres, type PostgresMigration } from './migrations.ts';
import { createPostgresPool } from './postgres-pool.ts';

/** The Postgres the tests use: `SWITCHYARD_TEST_POSTGRES_URL`, else the local default. */
export const testPostgresUrl =
  process.env.SWITCHYARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema of one test run on the real Postgres, migrated, with a pool whose connections use it. */
export interface PostgresTestSchema {
  /** `sy_test_<random>`. */
  schema: string;
  pool: Pool;
  /** Closes the pool and drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh schema on the test Postgres and migrates it (with every migration, or only
 * `migrations` for a test of the ones after them). Rejects when Postgres is not reachable, so the
 * tests that need it fail instead of skipping.
 */
export async function openPostgresTestSchema(
  migrations?: readonly PostgresMigration[],
): Promise<PostgresTestSchema> {
  const schema = `sy_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = createPostgresPool(testPostgresUrl, { schema, max: 4 });
  await migratePostgres(pool, migrations);
  return {
    schema,
    pool,
    async drop() {
      await pool.end();
      const client = new Client({ connectionString: testPostgresUrl });
      await client.connect();
      try {
        await client.query(`drop schema ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

let shared: Promise<PostgresTestSchema> | undefined;

/**
 * The schema of the current test file, created on first use. Await it inside each test (or store
 * factory) so that every test fails, rather than being skipped, while Postgres is down.
 */
export function postgresTestSchema(): Promise<PostgresTestSchema> {
  shared ??= openPostgresTestSchema();
  return shared;
}

/** Drops the current test file's schema, if one was created; call it from `afterAll`. */
export async function dropPostgresTestSchema(): Promise<void> {
  const db = await shared?.catch(() => undefined);
  shared = undefined;
  await db?.drop();
}
