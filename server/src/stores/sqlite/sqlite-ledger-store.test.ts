import type { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { runLedgerStoreContract } from '../ledger-store.contract.ts';
import { ledgerMigrations } from './ledger-migrations.ts';
import { migrations } from './migrations.ts';
import { openStateDatabase } from './open-state-database.ts';
import { SqliteLedgerStore } from './sqlite-ledger-store.ts';

const dbs: DatabaseSync[] = [];
afterAll(() => {
  for (const db of dbs) db.close();
});
function memoryDatabase(): DatabaseSync {
  const db = openStateDatabase(':memory:');
  dbs.push(db);
  return db;
}

runLedgerStoreContract('sqlite', () => new SqliteLedgerStore(memoryDatabase()));

describe('sqlite ledger store', () => {
  it('adds its table to the state database beside the keys, once', () => {
    const db = memoryDatabase();
    new SqliteLedgerStore(db);
    new SqliteLedgerStore(db);
    const versions = db
      .prepare('select version from schema_migrations order by version')
      .all()
      .map((v) => v.version);
    expect(versions).toEqual([...migrations, ...ledgerMigrations].map((m) => m.version));
  });

  it('writes a batch all or nothing', async () => {
    const store = new SqliteLedgerStore(memoryDatabase());
    const good = {
      time: 1,
      requestId: 'req_1',
      tenant: 't',
      keyId: 'k',
      policyVersion: 'p@1',
      inputTokens: 1,
      outputTokens: 1,
      cachedTokens: 0,
      costUsd: 0,
      estimated: false,
      latencyMs: 1,
      status: 200,
      outcome: 'ok',
      retries: 0,
      escalations: 0,
      cacheStatus: 'miss',
    } as const;
    const bad = { ...good, requestId: 'req_2', tenant: null as unknown as string };
    await expect(store.append([good, bad])).rejects.toThrow(/NOT NULL/);
    expect(await store.query({ groupBy: [], fromMs: 0, toMs: 10 })).toEqual([]);
  });
});
