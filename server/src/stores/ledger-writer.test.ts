import type { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LedgerAggregate, LedgerRow, LedgerStore } from './ledger-store.ts';
import { type LedgerDropEvent, LedgerWriter } from './ledger-writer.ts';
import { openStateDatabase } from './sqlite/open-state-database.ts';
import { SqliteLedgerStore } from './sqlite/sqlite-ledger-store.ts';

let seq = 0;
function row(): LedgerRow {
  seq += 1;
  return {
    time: 1_000 + seq,
    requestId: `req_${seq}`,
    tenant: 'search',
    keyId: 'key_a',
    policyVersion: 'default@1',
    inputTokens: 10,
    outputTokens: 5,
    cachedTokens: 0,
    costUsd: 0.001,
    estimated: false,
    latencyMs: 100,
    status: 200,
    outcome: 'ok',
    retries: 0,
    escalations: 0,
    cacheStatus: 'miss',
  };
}

/** A store whose appends the test controls: each call waits for the test to settle it. */
class ScriptedStore implements LedgerStore {
  readonly batches: LedgerRow[][] = [];
  readonly calls: { rows: readonly LedgerRow[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  /** When set, every append fails at once with this error. */
  failWith: Error | undefined;
  /** When false, appends wait for the test to resolve them. */
  answerAtOnce = true;

  async append(rows: readonly LedgerRow[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    if (this.answerAtOnce) {
      this.batches.push([...rows]);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.calls.push({
        rows,
        resolve: () => {
          this.batches.push([...rows]);
          resolve();
        },
        reject,
      });
    });
  }

  async query(): Promise<LedgerAggregate[]> {
    return [];
  }

  async close(): Promise<void> {}

  get written(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }
}

describe('ledger writer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never writes on the caller’s turn, and writes within the flush interval', async () => {
    const store = new ScriptedStore();
    const writer = new LedgerWriter(store, { flushIntervalMs: 1_000 });
    writer.append(row());
    writer.append(row());
    expect(store.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(999);
    expect(store.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.batches.map((b) => b.length)).toEqual([2]);
    expect(writer.written).toBe(2);
    expect(writer.queued).toBe(0);
  });

  it('writes a full batch at once, without waiting for the interval', async () => {
    const store = new ScriptedStore();
    const writer = new LedgerWriter(store, { batchRows: 3, flushIntervalMs: 60_000 });
    writer.append(row());
    writer.append(row());
    await vi.advanceTimersByTimeAsync(0);
    expect(store.batches).toEqual([]);
    for (let i = 0; i < 5; i++) writer.append(row());
    await vi.advanceTimersByTimeAsync(0);
    expect(store.batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('keeps accepting rows while a slow store is writing, then writes them in order', async () => {
    const store = new ScriptedStore();
    store.answerAtOnce = false;
    const writer = new LedgerWriter(store, { batchRows: 2, flushIntervalMs: 100 });
    const first = [row(), row()];
    for (const r of first) writer.append(r);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.calls).toHaveLength(1);
    const later = Array.from({ length: 5 }, row);
    for (const r of later) writer.append(r);
    expect(writer.queued).toBe(7);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.calls).toHaveLength(1);
    store.calls[0]!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 1; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(100);
      store.calls[i]?.resolve();
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(store.batches.flat().map((r) => r.requestId)).toEqual(
      [...first, ...later].map((r) => r.requestId),
    );
    expect(writer.dropped).toBe(0);
  });

  it('retries a failing batch with backoff, and writes it once the store is back', async () => {
    const store = new ScriptedStore();
    store.failWith = new Error('connection refused');
    const retries: number[] = [];
    const writer = new LedgerWriter(store, {
      retries: 5,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    writer.append(row());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(retries).toEqual([1]);
    await vi.advanceTimersByTimeAsync(100);
    expect(retries).toEqual([1, 2]);
    store.failWith = undefined;
    await vi.advanceTimersByTimeAsync(199);
    expect(store.written).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.written).toBe(1);
    expect(writer.dropped).toBe(0);
  });

  it('counts and reports a batch as dropped once the store failed past every retry', async () => {
    const store = new ScriptedStore();
    const error = new Error('database is down');
    store.failWith = error;
    const drops: LedgerDropEvent[] = [];
    const writer = new LedgerWriter(store, {
      retries: 3,
      retryBaseMs: 100,
      retryMaxMs: 150,
      onDrop: (e) => drops.push(e),
    });
    writer.append(row());
    writer.append(row());
    const flushed = writer.flush();
    await vi.advanceTimersByTimeAsync(100 + 150 + 150);
    await flushed;
    expect(writer.dropped).toBe(2);
    expect(drops).toEqual([{ reason: 'store_failed', rows: 2, error }]);
    expect(writer.queued).toBe(0);
  });

  it('buffers rows while the store is down, then counts what no longer fits as dropped, never silently', async () => {
    const store = new ScriptedStore();
    store.failWith = new Error('down');
    const drops: LedgerDropEvent[] = [];
    const writer = new LedgerWriter(store, {
      maxQueuedRows: 10,
      batchRows: 4,
      flushIntervalMs: 1_000,
      retries: 100,
      retryBaseMs: 1_000,
      onDrop: (e) => drops.push(e),
    });
    for (let i = 0; i < 25; i++) writer.append(row());
    expect(writer.queued).toBe(10);
    expect(writer.dropped).toBe(15);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(drops).toEqual([{ reason: 'queue_full', rows: 15 }]);
    writer.append(row());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(drops.at(-1)).toEqual({ reason: 'queue_full', rows: 1 });
    store.failWith = undefined;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(store.written).toBe(10);
    expect(writer.dropped).toBe(16);
  });

  it('keeps working when the drop callback throws', async () => {
    const store = new ScriptedStore();
    const writer = new LedgerWriter(store, {
      maxQueuedRows: 1,
      onDrop: () => {
        throw new Error('logger broke');
      },
    });
    writer.append(row());
    writer.append(row());
    await writer.flush();
    expect(store.written).toBe(1);
    expect(writer.dropped).toBe(1);
  });

  it('flushes everything on close, and drops with a report what is appended afterwards', async () => {
    const store = new ScriptedStore();
    const drops: LedgerDropEvent[] = [];
    const writer = new LedgerWriter(store, {
      batchRows: 100,
      flushIntervalMs: 60_000,
      onDrop: (e) => drops.push(e),
    });
    for (let i = 0; i < 250; i++) writer.append(row());
    await writer.close();
    expect(store.batches.map((b) => b.length)).toEqual([100, 100, 50]);
    writer.append(row());
    expect(writer.dropped).toBe(1);
    expect(drops).toEqual([{ reason: 'closed', rows: 1 }]);
  });

  it('waits on close for the batch being written', async () => {
    const store = new ScriptedStore();
    store.answerAtOnce = false;
    const writer = new LedgerWriter(store, { batchRows: 1 });
    writer.append(row());
    await vi.advanceTimersByTimeAsync(0);
    let closed = false;
    const closing = writer.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    store.calls[0]!.resolve();
    await closing;
    expect(store.written).toBe(1);
  });
});

describe('ledger writer with the sqlite ledger', () => {
  let db: DatabaseSync;
  beforeEach(() => {
    db = openStateDatabase(':memory:');
  });
  afterEach(() => {
    db.close();
  });

  it('lands every appended row in the ledger by the time close resolves', async () => {
    const store = new SqliteLedgerStore(db);
    const writer = new LedgerWriter(store, { batchRows: 64 });
    for (let i = 0; i < 1_000; i++) writer.append(row());
    await writer.close();
    const [total] = await store.query({ groupBy: [], fromMs: 0, toMs: 10_000_000 });
    expect(total?.requests).toBe(1_000);
    expect(writer.written).toBe(1_000);
  });
});
