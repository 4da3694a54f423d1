import type { LedgerRow, LedgerStore } from './ledger-store.ts';

/** The timer functions the writer uses; injected so tests can drive time. */
export interface LedgerWriterTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Rows the writer could not write, and why. */
export interface LedgerDropEvent {
  /**
   * `queue_full`: appended while the queue was full (reported together, once per flush interval);
   * `store_failed`: a batch still failed after every retry; `closed`: appended after `close()`.
   */
  reason: 'queue_full' | 'store_failed' | 'closed';
  rows: number;
  /** The store's last error, for `store_failed`. */
  error?: unknown;
}

/** Options of `LedgerWriter`; every one has a default. */
export interface LedgerWriterOptions {
  /** Most rows held in memory, the batch being written included; beyond it rows are dropped (default 10 000). */
  maxQueuedRows?: number | undefined;
  /** Rows per batch; a full batch is written at once, without waiting for the interval (default 500). */
  batchRows?: number | undefined;
  /** Longest a row waits before its batch is written, in ms (default 1000). */
  flushIntervalMs?: number | undefined;
  /** Retries of a failing batch before its rows are dropped (default 5). */
  retries?: number | undefined;
  /** Wait before the first retry, in ms; doubles each time (default 200). */
  retryBaseMs?: number | undefined;
  /** Longest wait between retries, in ms (default 5000). */
  retryMaxMs?: number | undefined;
  /** Told about rows that will never be written. Never silent: log it, count it in metrics. */
  onDrop?: ((event: LedgerDropEvent) => void) | undefined;
  /** Told about each failed attempt that will be retried (attempt counts from 1). */
  onRetry?: ((error: unknown, attempt: number) => void) | undefined;
  /**
   * Timer functions (default: the global ones). Pending writes keep the process alive, at most a
   * flush interval or a retry budget: rows are written rather than lost when a process ends
   * without `close()`.
   */
  timers?: LedgerWriterTimers | undefined;
}

/** The global timers, looked up at each call (so fake timers installed later take effect). */
const globalTimers: LedgerWriterTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Writes usage ledger rows in batches, off the request path. `append` never blocks, never throws
 * and never waits for the store: rows queue in memory (bounded) and are written within
 * `flushIntervalMs`, or at once when `batchRows` are waiting; a write takes everything queued, in
 * batches of at most `batchRows`, one batch at a time, in order. A failing
 * batch is retried with exponential backoff; rows that cannot be written (queue full, store down
 * past the retries, appended after close) are counted in `dropped` and reported to `onDrop`.
 * `flush()` and `close()` drain the queue for a graceful shutdown.
 */
export class LedgerWriter {
  readonly #store: LedgerStore;
  readonly #maxQueued: number;
  readonly #batchRows: number;
  readonly #intervalMs: number;
  readonly #retries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #onDrop: LedgerWriterOptions['onDrop'];
  readonly #onRetry: LedgerWriterOptions['onRetry'];
  readonly #timers: LedgerWriterTimers;
  #queue: LedgerRow[] = [];
  #inFlight = 0;
  #timer: unknown;
  #timerDueNow = false;
  #draining: Promise<void> | undefined;
  #closed = false;
  #dropped = 0;
  #written = 0;
  #unreportedFull = 0;

  constructor(store: LedgerStore, options: LedgerWriterOptions = {}) {
    this.#store = store;
    this.#maxQueued = options.maxQueuedRows ?? 10_000;
    this.#batchRows = options.batchRows ?? 500;
    this.#intervalMs = options.flushIntervalMs ?? 1_000;
    this.#retries = options.retries ?? 5;
    this.#retryBaseMs = options.retryBaseMs ?? 200;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
    this.#onDrop = options.onDrop;
    this.#onRetry = options.onRetry;
    this.#timers = options.timers ?? globalTimers;
  }

  /** Rows waiting or being written. */
  get queued(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Rows that will never be written, since the writer was created. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Rows the store accepted, since the writer was created. */
  get written(): number {
    return this.#written;
  }

  /** Queues a row for writing; returns at once, whatever the store is doing. */
  append(row: LedgerRow): void {
    if (this.#closed) {
      this.#dropped += 1;
      this.#report({ reason: 'closed', rows: 1 });
      return;
    }
    if (this.queued >= this.#maxQueued) {
      this.#dropped += 1;
      this.#unreportedFull += 1;
      this.#schedule(false);
      return;
    }
    this.#queue.push(row);
    this.#schedule(this.#queue.length >= this.#batchRows);
  }

  /** Writes everything queued (and whatever is appended meanwhile); resolves when the queue is empty. */
  async flush(): Promise<void> {
    this.#cancelTimer();
    while (this.#queue.length > 0 || this.#draining) {
      await (this.#draining ?? this.#startDrain());
    }
    this.#reportQueueFull();
  }

  /** Flushes, then drops (and reports) whatever is appended afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  /** Makes sure a write happens: now-ish when `soon`, else within the flush interval. */
  #schedule(soon: boolean): void {
    // A running drain takes new rows itself; the interval timer still reports drops while it retries.
    if (soon && this.#draining) return;
    if (this.#timer !== undefined && (this.#timerDueNow || !soon)) return;
    this.#cancelTimer();
    this.#timerDueNow = soon;
    this.#timer = this.#timers.setTimeout(
      () => {
        this.#timer = undefined;
        this.#reportQueueFull();
        if (this.#queue.length > 0 && !this.#draining) void this.#startDrain();
      },
      soon ? 0 : this.#intervalMs,
    );
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #startDrain(): Promise<void> {
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      // Rows appended during the last write, below a full batch, wait for the interval.
      if (this.#queue.length > 0 || this.#unreportedFull > 0)
        this.#schedule(this.#queue.length >= this.#batchRows);
    });
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      this.#reportQueueFull();
      const batch = this.#queue.splice(0, this.#batchRows);
      this.#inFlight = batch.length;
      try {
        await this.#writeWithRetries(batch);
      } finally {
        this.#inFlight = 0;
      }
    }
    this.#reportQueueFull();
  }

  async #writeWithRetries(batch: LedgerRow[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#store.append(batch);
        this.#written += batch.length;
        return;
      } catch (error) {
        if (attempt > this.#retries) {
          this.#dropped += batch.length;
          this.#report({ reason: 'store_failed', rows: batch.length, error });
          return;
        }
        try {
          this.#onRetry?.(error, attempt);
        } catch {
          // A broken logger must not stop the writer.
        }
        const waitMs = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (attempt - 1));
        await new Promise<void>((resolve) => this.#timers.setTimeout(resolve, waitMs));
      }
    }
  }

  #reportQueueFull(): void {
    if (this.#unreportedFull === 0) return;
    const rows = this.#unreportedFull;
    this.#unreportedFull = 0;
    this.#report({ reason: 'queue_full', rows });
  }

  #report(event: LedgerDropEvent): void {
    try {
      this.#onDrop?.(event);
    } catch {
      // A broken logger must not stop the writer; the rows are still counted in `dropped`.
    }
  }
}
