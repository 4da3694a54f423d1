import { describe, expect, it } from 'vitest';
import { fakeVersion, runPolicyVersionStoreContract } from '../policy-version-store.contract.ts';
import { memoryStateDatabases } from './memory-state-databases.fixture.ts';
import { SqlitePolicyVersionStore } from './sqlite-policy-version-store.ts';

const memoryDatabase = memoryStateDatabases();

runPolicyVersionStoreContract('sqlite', () => new SqlitePolicyVersionStore(memoryDatabase()));

describe('sqlite policy version store', () => {
  it('shares the state database with other stores and migrates once', () => {
    const db = memoryDatabase();
    new SqlitePolicyVersionStore(db);
    new SqlitePolicyVersionStore(db);
    const versions = db
      .prepare('select version from schema_migrations where version > 20000')
      .all()
      .map((v) => v.version);
    expect(versions).toEqual([20_001]);
  });

  it('leaves nothing behind when a publish fails half way', async () => {
    const db = memoryDatabase();
    const store = new SqlitePolicyVersionStore(db);
    const v = fakeVersion('x');
    db.exec(
      "create trigger fail_stable before insert on policy_stable begin select raise(abort, 'boom'); end",
    );
    await expect(store.publish(v, { actor: 'a', nowMs: 1 })).rejects.toThrow(/boom/);
    expect(await store.list()).toEqual([]);
    expect(await store.audit()).toEqual([]);
  });
});
