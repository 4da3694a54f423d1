import type { Charge } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { runQuotaStoreContract } from '../quota-store.contract.ts';
import { MemoryQuotaStore } from './memory-quota-store.ts';

runQuotaStoreContract('memory', () => new MemoryQuotaStore());

function charge(key: string, windowEndMs: number): Charge {
  return {
    key,
    quotaId: 'q',
    per: 'tenant',
    unit: 'requests',
    window: 'minute',
    windowStartMs: windowEndMs - 60_000,
    windowEndMs,
    limit: 10,
    amount: 1,
  };
}

describe('memory quota store', () => {
  it('refuses a settle that arrives after the late-settle grace, when the reservation is forgotten', async () => {
    const store = new MemoryQuotaStore({ lateSettleGraceMs: 1_000 });
    await store.reserve([charge('q|a', 60_000)], 'late', 1_000, 0);
    await store.reserve([charge('q|a', 60_000)], 'in-time', 1_000, 0);
    expect(await store.settle('in-time', {}, 1_999)).toBe(true);
    expect(await store.settle('late', {}, 2_000)).toBe(false);
    expect((await store.usage(['q|a'], 2_000))['q|a']).toEqual({ used: 1, reserved: 0 });
  });

  it('forgets the counters of windows that ended, so memory does not grow with time', async () => {
    const store = new MemoryQuotaStore({ windowSlackMs: 0 });
    await store.reserve([charge('q|old', 60_000)], 'r1', 1_000, 0);
    await store.settle('r1', {}, 1);
    await store.reserve([charge('q|new', 200_000)], 'r2', 1_000, 120_000);
    expect(await store.usage(['q|old'], 120_000)).toEqual({});
  });
});
