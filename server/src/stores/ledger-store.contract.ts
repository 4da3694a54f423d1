import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerRow, LedgerStore } from './ledger-store.ts';

const hour = 3_600_000;
/** A day far from the epoch, on the hour, so buckets are easy to read. */
const day = Date.UTC(2025, 0, 15);

/** A complete ledger row with a fresh request id, for store tests; `overrides` replace fields. */
export function sampleLedgerRow(overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    time: day + 1_000,
    requestId: `req_${randomUUID()}`,
    tenant: 'search',
    keyId: 'key_a',
    routeId: 'auto',
    logicalModel: 'fast',
    deployment: 'fast/openai-mini',
    policyVersion: 'default@3',
    experimentArm: 'stable',
    inputTokens: 100,
    outputTokens: 20,
    cachedTokens: 0,
    costUsd: 0.001,
    estimated: false,
    latencyMs: 200,
    ttftMs: 50,
    status: 200,
    outcome: 'ok',
    retries: 0,
    escalations: 0,
    cacheStatus: 'miss',
    ...overrides,
  };
}

/**
 * The behaviour every `LedgerStore` implementation must have. Call it from the implementation's
 * test file with a factory that returns a fresh, empty store.
 */
export function runLedgerStoreContract(
  name: string,
  makeStore: () => LedgerStore | Promise<LedgerStore>,
): void {
  describe(`${name} ledger store contract`, () => {
    let store: LedgerStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('totals appended rows over a time range', async () => {
      await store.append([
        sampleLedgerRow({ inputTokens: 100, outputTokens: 20, cachedTokens: 40, costUsd: 0.25 }),
        sampleLedgerRow({
          inputTokens: 50,
          outputTokens: 5,
          cachedTokens: 0,
          costUsd: 0.125,
          estimated: true,
          cacheStatus: 'hit',
          escalations: 2,
          savedCostUsd: 0.5,
        }),
        sampleLedgerRow({ outcome: 'error', status: 502, inputTokens: 10, outputTokens: 0, costUsd: 0 }),
        sampleLedgerRow({ outcome: 'timeout', status: 504 }),
        sampleLedgerRow({ outcome: 'cancelled', status: 499 }),
        sampleLedgerRow({
          outcome: 'denied',
          status: 429,
          deployment: undefined,
          inputTokens: 0,
          outputTokens: 0,
          costUsd: 0,
        }),
      ]);
      const [total, ...rest] = await store.query({ groupBy: [], fromMs: day, toMs: day + hour });
      expect(rest).toEqual([]);
      expect(total).toMatchObject({
        bucketStartMs: day,
        group: {},
        requests: 6,
        errors: 2,
        timeouts: 1,
        cancelled: 1,
        denied: 1,
        cacheHits: 1,
        escalated: 1,
        estimated: 1,
        inputTokens: 360,
        outputTokens: 65,
        cachedTokens: 40,
      });
      expect(total?.costUsd).toBeCloseTo(0.377, 12);
      expect(total?.savedCostUsd).toBeCloseTo(0.5, 12);
    });

    it('keeps the first row of a request id, so a retried batch counts once', async () => {
      const r = sampleLedgerRow({ inputTokens: 7 });
      await store.append([r]);
      await store.append([r, { ...r, inputTokens: 1_000 }, sampleLedgerRow({ inputTokens: 3 })]);
      const [total] = await store.query({ groupBy: [], fromMs: day, toMs: day + hour });
      expect(total).toMatchObject({ requests: 2, inputTokens: 10 });
    });

    it('keeps every request that reused a client’s request id, each under its own row key', async () => {
      const first = sampleLedgerRow({ requestId: 'client-42', rowId: `req_${randomUUID()}`, inputTokens: 7 });
      const second = sampleLedgerRow({
        requestId: 'client-42',
        rowId: `req_${randomUUID()}`,
        inputTokens: 3,
      });
      await store.append([first, second]);
      // A retried batch still counts once: the row key decides, not the request id.
      await store.append([first, { ...second, inputTokens: 1_000 }]);
      const [total] = await store.query({ groupBy: [], fromMs: day, toMs: day + hour });
      expect(total).toMatchObject({ requests: 2, inputTokens: 10 });
    });

    it('accepts an empty batch', async () => {
      await store.append([]);
      expect(await store.query({ groupBy: [], fromMs: day, toMs: day + hour })).toEqual([]);
    });

    it('counts rows from fromMs inclusive to toMs exclusive', async () => {
      await store.append([
        sampleLedgerRow({ time: day - 1 }),
        sampleLedgerRow({ time: day }),
        sampleLedgerRow({ time: day + hour - 1 }),
        sampleLedgerRow({ time: day + hour }),
      ]);
      const [total] = await store.query({ groupBy: [], fromMs: day, toMs: day + hour });
      expect(total?.requests).toBe(2);
    });

    it('groups by several dimensions, nulls first, then by value', async () => {
      await store.append([
        sampleLedgerRow({ tenant: 'search', logicalModel: 'strong' }),
        sampleLedgerRow({ tenant: 'search', logicalModel: 'fast' }),
        sampleLedgerRow({ tenant: 'search', logicalModel: 'fast' }),
        sampleLedgerRow({ tenant: 'ads', logicalModel: 'fast' }),
        sampleLedgerRow({ tenant: 'ads', logicalModel: undefined, outcome: 'denied' }),
      ]);
      const result = await store.query({ groupBy: ['tenant', 'model'], fromMs: day, toMs: day + hour });
      expect(result.map((a) => [a.group, a.requests])).toEqual([
        [{ tenant: 'ads', model: null }, 1],
        [{ tenant: 'ads', model: 'fast' }, 1],
        [{ tenant: 'search', model: 'fast' }, 2],
        [{ tenant: 'search', model: 'strong' }, 1],
      ]);
    });

    it('groups by key, route, deployment, policy, arm, outcome and cache status', async () => {
      await store.append([
        sampleLedgerRow(),
        sampleLedgerRow({ keyId: 'key_b', experimentArm: 'canary', cacheStatus: 'hit' }),
      ]);
      const result = await store.query({
        groupBy: ['key', 'route', 'deployment', 'policy', 'arm', 'outcome', 'cache'],
        fromMs: day,
        toMs: day + hour,
      });
      expect(result.map((a) => a.group)).toEqual([
        {
          key: 'key_a',
          route: 'auto',
          deployment: 'fast/openai-mini',
          policy: 'default@3',
          arm: 'stable',
          outcome: 'ok',
          cache: 'miss',
        },
        {
          key: 'key_b',
          route: 'auto',
          deployment: 'fast/openai-mini',
          policy: 'default@3',
          arm: 'canary',
          outcome: 'ok',
          cache: 'hit',
        },
      ]);
    });

    it('buckets by time on multiples of the bucket width', async () => {
      await store.append([
        sampleLedgerRow({ time: day + 10 }),
        sampleLedgerRow({ time: day + hour - 1, tenant: 'ads' }),
        sampleLedgerRow({ time: day + 2 * hour + 5 }),
        sampleLedgerRow({ time: day + 2 * hour + 6 }),
      ]);
      const result = await store.query({
        groupBy: ['tenant'],
        fromMs: day + 5,
        toMs: day + 3 * hour,
        bucketMs: hour,
      });
      expect(result.map((a) => [a.bucketStartMs - day, a.group.tenant, a.requests])).toEqual([
        [0, 'ads', 1],
        [0, 'search', 1],
        [2 * hour, 'search', 2],
      ]);
    });

    it('filters by exact dimension values', async () => {
      await store.append([
        sampleLedgerRow({ tenant: 'ads' }),
        sampleLedgerRow({ tenant: 'search', keyId: 'key_x' }),
        sampleLedgerRow({ tenant: 'search' }),
      ]);
      const result = await store.query({
        groupBy: ['key'],
        fromMs: day,
        toMs: day + hour,
        where: { tenant: 'search' },
      });
      expect(result.map((a) => [a.group.key, a.requests])).toEqual([
        ['key_a', 1],
        ['key_x', 1],
      ]);
    });

    it('reports nearest-rank latency percentiles over the requests that were not denied', async () => {
      const latencies = [...Array(20).keys()].map((i) => (i + 1) * 10).reverse();
      await store.append([
        ...latencies.map((latencyMs) => sampleLedgerRow({ latencyMs })),
        sampleLedgerRow({ latencyMs: 1, outcome: 'denied' }),
        sampleLedgerRow({ latencyMs: 2, outcome: 'denied' }),
        sampleLedgerRow({ latencyMs: 3, tenant: 'ads', outcome: 'denied' }),
        sampleLedgerRow({ latencyMs: 7, tenant: 'solo' }),
      ]);
      const result = await store.query({ groupBy: ['tenant'], fromMs: day, toMs: day + hour });
      expect(result.map((a) => [a.group.tenant, a.latencyP50Ms, a.latencyP95Ms])).toEqual([
        ['ads', null, null],
        ['search', 100, 190],
        ['solo', 7, 7],
      ]);
    });

    it('refuses a query it cannot answer', async () => {
      await expect(
        store.query({ groupBy: ['colour' as 'tenant'], fromMs: day, toMs: day + hour }),
      ).rejects.toThrow(/unknown ledger dimension `colour`/);
      await expect(store.query({ groupBy: [], fromMs: day, toMs: day })).rejects.toThrow(
        /expected `toMs` after `fromMs`/,
      );
      await expect(store.query({ groupBy: [], fromMs: day, toMs: day + 1, bucketMs: 0 })).rejects.toThrow(
        /bucketMs/,
      );
    });

    it('appends a large batch in one call', async () => {
      const rows = Array.from({ length: 3_000 }, (_, i) =>
        sampleLedgerRow({ time: day + i, inputTokens: 1, costUsd: 0.5 }),
      );
      await store.append(rows);
      const [total] = await store.query({ groupBy: [], fromMs: day, toMs: day + hour });
      expect(total).toMatchObject({ requests: 3_000, inputTokens: 3_000, costUsd: 1_500 });
    });
  });
}
