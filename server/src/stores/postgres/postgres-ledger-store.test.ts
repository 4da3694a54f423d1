import { afterAll, describe, expect, it } from 'vitest';
import { reusedIdRow } from '../ledger-migration.fixture.ts';
import { runLedgerStoreContract } from '../ledger-store.contract.ts';
import { migratePostgres, postgresMigrations } from './migrations.ts';
import { PostgresLedgerStore } from './postgres-ledger-store.ts';
import {
  dropPostgresTestSchema,
  openPostgresTestSchema,
  postgresTestSchema,
} from './postgres-test-schema.ts';

afterAll(dropPostgresTestSchema);

runLedgerStoreContract('postgres', async () => {
  const db = await postgresTestSchema();
  await db.pool.query('truncate usage_ledger');
  return new PostgresLedgerStore(db.pool);
});

describe('postgres ledger migrations', () => {
  it('keys existing rows by their request id, then keeps requests that reuse it', async () => {
    const db = await openPostgresTestSchema(postgresMigrations.filter((m) => m.version <= 5));
    try {
      await db.pool.query(
        `insert into usage_ledger (request_id, time_ms, tenant, key_id, policy_version, input_tokens, output_tokens,
           cached_tokens, cost_usd, estimated, latency_ms, status, outcome, retries, escalations, cache_status)
         values ('client-42', 5, 't', 'k', 'p@1', 7, 1, 0, 0.5, false, 1, 200, 'ok', 0, 0, 'miss')`,
      );
      expect(await migratePostgres(db.pool)).toEqual([6]);
      const store = new PostgresLedgerStore(db.pool);
      await store.append([reusedIdRow]);
      const [total] = await store.query({ groupBy: [], fromMs: 0, toMs: 10 });
      expect(total).toMatchObject({ requests: 2, inputTokens: 10, costUsd: 0.75 });
      const { rows } = await db.pool.query('select row_id from usage_ledger order by row_id');
      expect(rows.map((r) => r.row_id)).toEqual(['client-42', 'req_0000000000060123456789ab']);
    } finally {
      await db.drop();
    }
  });
});
