import { afterAll, describe, expect, it } from 'vitest';
import { runKeyStoreContract } from '../key-store.contract.ts';
import { migratePostgres, postgresMigrations } from './migrations.ts';
import { PostgresKeyStore } from './postgres-key-store.ts';
import { createPostgresPool } from './postgres-pool.ts';
import { dropPostgresTestSchema, postgresTestSchema, testPostgresUrl } from './postgres-test-schema.ts';

afterAll(dropPostgresTestSchema);

runKeyStoreContract('postgres', async () => {
  const db = await postgresTestSchema();
  await db.pool.query('truncate api_keys');
  return new PostgresKeyStore(db.pool);
});

describe('postgres migrations', () => {
  it('applies each migration once, even when replicas migrate a fresh schema at the same time', async () => {
    const db = await postgresTestSchema();
    const schema = `${db.schema}_fresh`;
    await db.pool.query(`create schema ${schema}`);
    const replicas = [1, 2, 3].map(() => createPostgresPool(testPostgresUrl, { schema, max: 1 }));
    try {
      const applied = await Promise.all(replicas.map((pool) => migratePostgres(pool)));
      expect(applied.flat().sort()).toEqual(postgresMigrations.map((m) => m.version));
      expect(await migratePostgres(replicas[0]!)).toEqual([]);
    } finally {
      await Promise.all(replicas.map((pool) => pool.end()));
      await db.pool.query(`drop schema ${schema} cascade`);
    }
  });

  it('rolls back a failing migration and names it', async () => {
    const db = await postgresTestSchema();
    const broken = [
      ...postgresMigrations,
      { version: 999, name: 'broken', sql: 'create table x (a int); select * from nowhere' },
    ];
    await expect(migratePostgres(db.pool, broken)).rejects.toThrow(/migration 999 \(broken\) failed/);
    const { rows } = await db.pool.query(
      "select 1 from information_schema.tables where table_schema = $1 and table_name = 'x'",
      [db.schema],
    );
    expect(rows).toEqual([]);
  });
});
