import { describe, expect, it } from 'vitest';
import { runSemanticIndexContract } from '../semantic-index.contract.ts';
import { MemorySemanticIndex } from './memory-semantic-index.ts';

runSemanticIndexContract('memory', (bounds) => new MemorySemanticIndex(bounds));

describe('memory semantic index bounds', () => {
  it('evicts the least recently used entry over all buckets, a hit counting as a use', async () => {
    const index = new MemorySemanticIndex({ maxEntries: 2 });
    await index.add('tenant:a', 'p', [1, 0], 'a', 60_000, 0);
    await index.add('tenant:b', 'p', [1, 0], 'b', 60_000, 0);
    expect(await index.search('tenant:a', 'p', [1, 0], 0.9, 0)).toBeDefined();
    await index.add('tenant:c', 'p', [1, 0], 'c', 60_000, 0);
    expect(await index.search('tenant:b', 'p', [1, 0], 0.9, 0)).toBeUndefined();
    expect(await index.search('tenant:a', 'p', [1, 0], 0.9, 0)).toBeDefined();
    expect(index.size).toBe(2);
  });

  it('drops expired entries it comes across', async () => {
    const index = new MemorySemanticIndex();
    await index.add('tenant:a', 'p', [1, 0], 'a', 1_000, 0);
    await index.search('tenant:a', 'p', [0, 1], 0.9, 1_000);
    expect(index.size).toBe(0);
  });
});
