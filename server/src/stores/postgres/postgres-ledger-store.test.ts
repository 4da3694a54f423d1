import { afterAll } from 'vitest';
import { runLedgerStoreContract } from '../ledger-store.contract.ts';
import { PostgresLedgerStore } from './postgres-ledger-store.ts';
import { dropPostgresTestSchema, postgresTestSchema } from './postgres-test-schema.ts';

afterAll(dropPostgresTestSchema);

runLedgerStoreContract('postgres', async () => {
  const db = await postgresTestSchema();
  await db.pool.query('truncate usage_ledger');
  return new PostgresLedgerStore(db.pool);
});
