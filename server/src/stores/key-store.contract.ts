import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyId, hashApiKey, issueApiKey } from './api-key.ts';
import { type ApiKeyRecord, DuplicateKeyError, type KeyStore } from './key-store.ts';

function record(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: generateKeyId(),
    name: 'ci',
    tenant: 'search',
    prefix: 'sk-sy-AbCd',
    disabled: false,
    createdAt: 1_000,
    ...overrides,
  };
}

/**
 * The behaviour every `KeyStore` implementation must have. Call it from the implementation's test
 * file with a factory that returns a fresh, empty store.
 */
export function runKeyStoreContract(name: string, makeStore: () => KeyStore | Promise<KeyStore>): void {
  describe(`${name} key store contract`, () => {
    let store: KeyStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('finds a created key by the hash of its secret, with every field intact', async () => {
      const r = record({ allowedModels: ['fast', 'strong'], expiresAt: 99_000, name: 'batch jobs' });
      await store.create(hashApiKey('sk-sy-one'), r);
      expect(await store.findByHash(hashApiKey('sk-sy-one'))).toEqual(r);
      expect(await store.get(r.id)).toEqual(r);
    });

    it('keeps optional fields absent when they were not set', async () => {
      const r = record();
      await store.create(hashApiKey('sk-sy-two'), r);
      const found = await store.findByHash(hashApiKey('sk-sy-two'));
      expect(found?.allowedModels).toBeUndefined();
      expect(found?.expiresAt).toBeUndefined();
      expect(found?.lastUsedAt).toBeUndefined();
    });

    it('finds nothing for an unknown or malformed hash', async () => {
      await store.create(hashApiKey('sk-sy-three'), record());
      expect(await store.findByHash(hashApiKey('sk-sy-other'))).toBeUndefined();
      expect(await store.findByHash('not-hex')).toBeUndefined();
      expect(await store.findByHash('')).toBeUndefined();
      expect(await store.get('key_missing')).toBeUndefined();
    });

    it('never stores the secret itself', async () => {
      const { key, record: r } = await issueApiKey(store, { tenant: 'search' }, 5);
      const listed = JSON.stringify(await store.list());
      expect(listed).not.toContain(key);
      expect(r.prefix.length).toBeLessThan(key.length / 2);
      expect(await store.findByHash(hashApiKey(key))).toEqual(r);
    });

    it('refuses a second key with the same id or the same hash', async () => {
      const r = record();
      await store.create(hashApiKey('sk-sy-dup'), r);
      await expect(store.create(hashApiKey('sk-sy-dup2'), { ...r })).rejects.toBeInstanceOf(
        DuplicateKeyError,
      );
      await expect(store.create(hashApiKey('sk-sy-dup'), record())).rejects.toBeInstanceOf(DuplicateKeyError);
    });

    it('lists keys oldest first and filters by tenant', async () => {
      const a = record({ createdAt: 3, tenant: 'a' });
      const b = record({ createdAt: 1, tenant: 'b' });
      const c = record({ createdAt: 2, tenant: 'a' });
      for (const [i, r] of [a, b, c].entries()) await store.create(hashApiKey(`sk-sy-list-${i}`), r);
      expect((await store.list()).map((r) => r.id)).toEqual([b.id, c.id, a.id]);
      expect((await store.list({ tenant: 'a' })).map((r) => r.id)).toEqual([c.id, a.id]);
      expect(await store.list({ tenant: 'nobody' })).toEqual([]);
    });

    it('disables a key, which is still found so the caller can say why it is refused', async () => {
      const r = record();
      await store.create(hashApiKey('sk-sy-dis'), r);
      expect(await store.disable(r.id)).toBe(true);
      expect((await store.findByHash(hashApiKey('sk-sy-dis')))?.disabled).toBe(true);
      expect(await store.disable('key_missing')).toBe(false);
    });

    it('deletes a key so it is no longer found', async () => {
      const r = record();
      await store.create(hashApiKey('sk-sy-del'), r);
      expect(await store.delete(r.id)).toBe(true);
      expect(await store.findByHash(hashApiKey('sk-sy-del'))).toBeUndefined();
      expect(await store.list()).toEqual([]);
      expect(await store.delete(r.id)).toBe(false);
    });

    it('records the last use and never moves it backwards', async () => {
      const r = record();
      await store.create(hashApiKey('sk-sy-touch'), r);
      await store.touch(r.id, 50_000);
      await store.touch(r.id, 40_000);
      expect((await store.get(r.id))?.lastUsedAt).toBe(50_000);
      await store.touch('key_missing', 1);
    });

    it('stores per-key caps and returns them intact', async () => {
      const r = record({
        caps: [
          { window: 'day', usd: 5 },
          { window: 'minute', requests: 10 },
        ],
      });
      await store.create(hashApiKey('sk-sy-caps'), r);
      expect((await store.get(r.id))?.caps).toEqual(r.caps);
      expect((await store.findByHash(hashApiKey('sk-sy-caps')))?.caps).toEqual(r.caps);
    });

    it('updates name, models, expiry and caps; null clears a field, a missing one is kept', async () => {
      const r = record({ allowedModels: ['fast'], expiresAt: 9_000 });
      await store.create(hashApiKey('sk-sy-upd'), r);
      const updated = await store.update(r.id, { name: 'renamed', caps: [{ window: 'hour', tokens: 1000 }] });
      expect(updated).toEqual({ ...r, name: 'renamed', caps: [{ window: 'hour', tokens: 1000 }] });
      expect(await store.get(r.id)).toEqual(updated);
      const cleared = await store.update(r.id, { allowedModels: null, expiresAt: null, caps: null });
      expect(cleared?.allowedModels).toBeUndefined();
      expect(cleared?.expiresAt).toBeUndefined();
      expect(cleared?.caps).toBeUndefined();
      expect((await store.get(r.id))?.name).toBe('renamed');
      expect(await store.get(r.id)).toEqual(cleared);
      expect(await store.update('key_missing', { name: 'x' })).toBeUndefined();
    });

    it('returns copies that callers cannot use to change the stored key', async () => {
      const r = record({ allowedModels: ['fast'] });
      await store.create(hashApiKey('sk-sy-copy'), r);
      const found = await store.get(r.id);
      (found as { disabled: boolean }).disabled = true;
      r.name = 'changed';
      const again = await store.get(r.id);
      expect(again?.disabled).toBe(false);
      expect(again?.name).toBe('ci');
    });
  });
}
