import { describe, expect, it } from 'vitest';
import { cachedChat, runResponseCacheContract } from '../response-cache.contract.ts';
import { MemoryResponseCache } from './memory-response-cache.ts';

runResponseCacheContract('memory', () => new MemoryResponseCache());

/** Bytes one entry takes: its serialized value and its key. */
function entryBytes(key: string, content: string): number {
  return Buffer.byteLength(JSON.stringify(cachedChat(content))) + key.length;
}

describe('memory response cache bounds', () => {
  const one = entryBytes('a', 'x'.repeat(100));

  it('evicts the least recently used entries once the bytes would exceed the bound', async () => {
    const cache = new MemoryResponseCache({ maxBytes: one * 3, maxEntryBytes: one });
    for (const key of ['a', 'b', 'c']) await cache.set(key, cachedChat('x'.repeat(100)), 60_000, 0);
    expect(cache.sizeBytes).toBe(one * 3);
    await cache.get('a', 0); // a is now the most recently used; b is the least
    await cache.set('d', cachedChat('x'.repeat(100)), 60_000, 0);
    expect(await cache.get('b', 0)).toBeUndefined();
    for (const key of ['a', 'c', 'd']) expect(await cache.get(key, 0)).toBeDefined();
    expect(cache.sizeBytes).toBe(one * 3);
  });

  it('evicts as many entries as a large one needs', async () => {
    const cache = new MemoryResponseCache({ maxBytes: one * 3, maxEntryBytes: one * 3 });
    for (const key of ['a', 'b', 'c']) await cache.set(key, cachedChat('x'.repeat(100)), 60_000, 0);
    await cache.set('e', cachedChat('x'.repeat(100 + one)), 60_000, 0);
    expect(await cache.get('a', 0)).toBeUndefined();
    expect(await cache.get('b', 0)).toBeUndefined();
    expect(await cache.get('c', 0)).toBeDefined();
    expect(await cache.get('e', 0)).toBeDefined();
  });

  it('declines an entry larger than maxEntryBytes, dropping the one it would replace', async () => {
    const cache = new MemoryResponseCache({ maxBytes: one * 10, maxEntryBytes: one });
    await cache.set('a', cachedChat('small'), 60_000, 0);
    await cache.set('a', cachedChat('x'.repeat(200)), 60_000, 0);
    expect(await cache.get('a', 0)).toBeUndefined();
    expect(cache.sizeBytes).toBe(0);
  });

  it('gives back the bytes of an entry found expired', async () => {
    const cache = new MemoryResponseCache();
    await cache.set('a', cachedChat('Paris.'), 1_000, 0);
    expect(cache.sizeBytes).toBeGreaterThan(0);
    expect(await cache.get('a', 1_000)).toBeUndefined();
    expect(cache.sizeBytes).toBe(0);
    expect(cache.size).toBe(0);
  });
});
