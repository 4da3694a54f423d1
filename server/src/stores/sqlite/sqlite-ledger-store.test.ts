import { describe, expect, it } from 'vitest';
import { reusedIdRow } from '../ledger-migration.fixture.ts';
import { runLedgerStoreContract } from '../ledger-store.contract.ts';
import { ledgerMigrations } from './ledger-migrations.ts';
import { memoryStateDatabases } from './memory-state-databases.fixture.ts';
import { migrate, migrations } from './migrations.ts';
import { SqliteLedgerStore } from './sqlite-ledger-store.ts';

const memoryDatabase = memoryStateDatabases();

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

  it('keys existing rows by their request id, then keeps requests that reuse it', async () => {
    const db = memoryDatabase();
    migrate(
      db,
      ledgerMigrations.filter((m) => m.version <= 10_002),
    );
    db.exec(
      `insert into usage_ledger (request_id, time_ms, tenant, key_id, policy_version, input_tokens, output_tokens,
         cached_tokens, cost_usd, estimated, latency_ms, status, outcome, retries, escalations, cache_status)
       values ('client-42', 5, 't', 'k', 'p@1', 7, 1, 0, 0.5, 0, 1, 200, 'ok', 0, 0, 'miss')`,
    );
    const store = new SqliteLedgerStore(db);
    await store.append([reusedIdRow]);
    const [total] = await store.query({ groupBy: [], fromMs: 0, toMs: 10 });
    expect(total).toMatchObject({ requests: 2, inputTokens: 10, costUsd: 0.75 });
    const ids = db
      .prepare('select row_id from usage_ledger order by row_id')
      .all()
      .map((r) => r.row_id);
    expect(ids).toEqual(['client-42', 'req_0000000000060123456789ab']);
  });
});
