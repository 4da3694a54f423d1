import type { Plan } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors.ts';
import { issueApiKey } from '../stores/api-key.ts';
import { MemoryKeyStore } from '../stores/memory/memory-key-store.ts';
import { Authenticator, readApiKey, restrictPlanToKey } from './authenticate.ts';

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const store = new MemoryKeyStore();
  const auth = new Authenticator(store, clock, { cacheTtlMs: 5000 });
  return { store, auth, advance: (ms: number) => (now += ms), clock };
}

async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(err)}`);
  return err;
}

describe('Authenticator', () => {
  it('reads the key from a Bearer header or x-api-key', () => {
    expect(readApiKey({ authorization: 'Bearer sk-sy-abc' })).toBe('sk-sy-abc');
    expect(readApiKey({ authorization: 'bearer   sk-sy-abc ' })).toBe('sk-sy-abc');
    expect(readApiKey({ 'x-api-key': 'sk-sy-def' })).toBe('sk-sy-def');
    expect(readApiKey({ authorization: 'Basic abc' })).toBeUndefined();
  });

  it('tells missing, invalid, disabled and expired keys apart, all as 401', async () => {
    const { store, auth, clock } = setup();
    const good = await issueApiKey(store, { tenant: 't' }, clock.now());
    const disabled = await issueApiKey(store, { tenant: 't' }, clock.now());
    await store.disable(disabled.record.id);
    const expired = await issueApiKey(store, { tenant: 't', expiresAt: clock.now() - 1 }, clock.now());

    expect((await auth.authenticate({ authorization: `Bearer ${good.key}` })).id).toBe(good.record.id);
    const codes = await Promise.all([
      refusal(auth.authenticate({})),
      refusal(auth.authenticate({ authorization: 'Bearer sk-sy-notakeyatallbutlongenoughtolooklikeone1' })),
      refusal(auth.authenticate({ authorization: 'Bearer nope' })),
      refusal(auth.authenticate({ 'x-api-key': disabled.key })),
      refusal(auth.authenticate({ 'x-api-key': expired.key })),
    ]);
    expect(codes.map((e) => [e.status, e.code])).toEqual([
      [401, 'missing_api_key'],
      [401, 'invalid_api_key'],
      [401, 'invalid_api_key'],
      [401, 'api_key_disabled'],
      [401, 'api_key_expired'],
    ]);
    expect(codes[3]!.message).toContain(disabled.record.prefix);
    expect(codes.map((e) => e.message).join(' ')).not.toContain(disabled.key);
  });

  it('trusts a cached key for the TTL, and forgets it at once when told', async () => {
    const { store, auth, advance, clock } = setup();
    const { key, record } = await issueApiKey(store, { tenant: 't' }, clock.now());
    await auth.authenticate({ authorization: `Bearer ${key}` });
    await store.disable(record.id);
    // Another process (the CLI) revoked it: the cache serves it until the TTL ends.
    await expect(auth.authenticate({ authorization: `Bearer ${key}` })).resolves.toBeDefined();
    advance(5001);
    expect((await refusal(auth.authenticate({ authorization: `Bearer ${key}` }))).code).toBe(
      'api_key_disabled',
    );

    const second = await issueApiKey(store, { tenant: 't' }, clock.now());
    await auth.authenticate({ authorization: `Bearer ${second.key}` });
    await store.delete(second.record.id);
    auth.forget(second.record.id);
    expect((await refusal(auth.authenticate({ authorization: `Bearer ${second.key}` }))).code).toBe(
      'invalid_api_key',
    );
  });

  it('expires a cached key the moment its expiry passes', async () => {
    const { store, auth, advance, clock } = setup();
    const { key } = await issueApiKey(store, { tenant: 't', expiresAt: clock.now() + 1000 }, clock.now());
    await auth.authenticate({ authorization: `Bearer ${key}` });
    advance(1000);
    expect((await refusal(auth.authenticate({ authorization: `Bearer ${key}` }))).code).toBe(
      'api_key_expired',
    );
  });

  it('records the last use at most once per interval', async () => {
    const { store, auth, advance, clock } = setup();
    const { key, record } = await issueApiKey(store, { tenant: 't' }, clock.now());
    await auth.authenticate({ authorization: `Bearer ${key}` });
    await new Promise((r) => setImmediate(r));
    expect((await store.get(record.id))?.lastUsedAt).toBe(clock.now());
    const first = clock.now();
    advance(1000);
    await auth.authenticate({ authorization: `Bearer ${key}` });
    await new Promise((r) => setImmediate(r));
    expect((await store.get(record.id))?.lastUsedAt).toBe(first);
  });
});

describe('restrictPlanToKey', () => {
  const plan = {
    target: 'fast',
    escalation: [{ to: 'strong', on: ['error'], minLogprob: -1, candidates: [], charges: [] }],
  } as unknown as Plan;
  const key = (allowedModels?: string[]) => ({
    id: 'key_1',
    name: '',
    tenant: 't',
    prefix: 'sk-sy-x',
    disabled: false,
    createdAt: 0,
    allowedModels,
  });

  it('leaves plans alone for keys without a model list', () => {
    expect(restrictPlanToKey(plan, key(), 'auto')).toBe(plan);
  });

  it('refuses with 403 when the key may use neither the requested model nor the target', () => {
    expect(() => restrictPlanToKey(plan, key(['strong']), 'auto')).toThrow(
      expect.objectContaining({ status: 403, code: 'model_not_allowed_for_key' }),
    );
  });

  it('drops escalation hops to models the key may not use', () => {
    expect(restrictPlanToKey(plan, key(['fast']), 'fast').escalation).toEqual([]);
  });

  it('allows what a route alias the key may use resolves to', () => {
    expect(restrictPlanToKey(plan, key(['auto']), 'auto')).toBe(plan);
  });
});
