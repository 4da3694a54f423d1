import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SemanticIndex } from './semantic-index.ts';

/** Bounds the contract passes to the factory, so it can check the bucket bound. */
export interface SemanticIndexContractBounds {
  maxEntriesPerBucket: number;
}

/**
 * The behaviour every `SemanticIndex` implementation must have. Scopes are unique per test, so the
 * factory may return indexes sharing their backing state.
 */
export function runSemanticIndexContract(
  name: string,
  makeIndex: (bounds: SemanticIndexContractBounds) => SemanticIndex | Promise<SemanticIndex>,
): void {
  describe(`${name} semantic index contract`, () => {
    let index: SemanticIndex;
    let scope: string;
    const params = 'p'.repeat(64);
    beforeEach(async () => {
      index = await makeIndex({ maxEntriesPerBucket: 3 });
      scope = `tenant:${randomUUID()}`;
    });
    afterEach(async () => {
      await index.close();
    });

    it('finds nothing in an empty bucket', async () => {
      expect(await index.search(scope, params, [1, 0, 0], 0.5, 0)).toBeUndefined();
    });

    it('finds the most similar entry at or above the threshold, whatever the vectors’ length', async () => {
      await index.add(scope, params, [1, 0, 0], 'east', 60_000, 0);
      await index.add(scope, params, [0, 1, 0], 'north', 60_000, 0);
      const match = await index.search(scope, params, [2, 0.2, 0], 0.9, 10);
      expect(match?.key).toBe('east');
      expect(match?.similarity).toBeCloseTo(2 / Math.sqrt(4.04), 5);
      expect(await index.search(scope, params, [1, 1, 0], 0.8, 10)).toBeUndefined();
      expect((await index.search(scope, params, [0, 3, 0], 0.99, 10))?.key).toBe('north');
    });

    it('never compares across scopes or parameters', async () => {
      await index.add(scope, params, [1, 0, 0], 'east', 60_000, 0);
      expect(await index.search(`tenant:${randomUUID()}`, params, [1, 0, 0], 0.5, 0)).toBeUndefined();
      expect(await index.search(scope, 'q'.repeat(64), [1, 0, 0], 0.5, 0)).toBeUndefined();
    });

    it('never compares vectors of another dimension, and matches nothing to a zero vector', async () => {
      await index.add(scope, params, [1, 0, 0], 'three', 60_000, 0);
      expect(await index.search(scope, params, [1, 0], 0, 0)).toBeUndefined();
      expect(await index.search(scope, params, [0, 0, 0], -1, 0)).toBeUndefined();
    });

    it('forgets an entry once its ttl has passed', async () => {
      await index.add(scope, params, [1, 0, 0], 'east', 1_000, 5_000);
      expect(await index.search(scope, params, [1, 0, 0], 0.5, 5_999)).toBeDefined();
      expect(await index.search(scope, params, [1, 0, 0], 0.5, 6_000)).toBeUndefined();
    });

    it('replaces the vector of a key added again', async () => {
      await index.add(scope, params, [1, 0, 0], 'moving', 60_000, 0);
      await index.add(scope, params, [0, 0, 1], 'moving', 60_000, 1);
      expect(await index.search(scope, params, [1, 0, 0], 0.5, 2)).toBeUndefined();
      expect((await index.search(scope, params, [0, 0, 1], 0.5, 2))?.key).toBe('moving');
    });

    it('removes an entry', async () => {
      await index.add(scope, params, [1, 0, 0], 'east', 60_000, 0);
      await index.remove(scope, params, 'east');
      expect(await index.search(scope, params, [1, 0, 0], 0.5, 0)).toBeUndefined();
    });

    it('keeps a bucket within its bound by dropping the oldest entries', async () => {
      const vectors = [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 1, 1],
      ];
      for (const [i, vector] of vectors.entries()) await index.add(scope, params, vector, `k${i}`, 60_000, i);
      expect(await index.search(scope, params, [1, 0, 0], 0.99, 10)).toBeUndefined();
      for (const [i, vector] of vectors.entries())
        if (i > 0) expect((await index.search(scope, params, vector, 0.99, 10))?.key).toBe(`k${i}`);
    });
  });
}
