import type { BreakerState } from '@switchyard/engine';
import type { Logger } from 'pino';
import type { BreakerOutcome, BreakerSettings, BreakerStore } from '../stores/breaker-store.ts';
import type { LimitStore } from '../stores/limit-store.ts';
import { MemoryBreakerStore } from '../stores/memory/memory-breaker-store.ts';
import { MemoryLimitStore } from '../stores/memory/memory-limit-store.ts';
import { MemoryQuotaStore } from '../stores/memory/memory-quota-store.ts';
import type { QuotaStore } from '../stores/quota-store.ts';
import type { GatewayStats } from './gateway-stats.ts';

/** The stores one request's limits and reservations live in, from admission to settle. */
export interface ProtectionStoreSet {
  limits: LimitStore;
  quotas: QuotaStore;
  /** Whether this is the process-local fallback rather than the shared store. */
  local: boolean;
}

/** The shared (Redis) stores; absent on a single node, where the local ones are the real ones. */
export interface SharedProtectionStores {
  limits: LimitStore;
  quotas: QuotaStore;
  breakers: BreakerStore;
  /** Name for logs, e.g. `redis`. */
  name: string;
}

/** Options of `ProtectionStores`. */
export interface ProtectionStoresOptions {
  shared?: SharedProtectionStores | undefined;
  logger: Logger;
  stats: GatewayStats;
  /**
   * During an outage, how long after the last failure requests skip the shared store and go
   * straight to the fallback (default 1000 ms): a hung store then costs one command timeout per
   * interval, not one per request. After it, the next request tries the shared store again.
   */
  retrySharedAfterMs?: number | undefined;
  /** Epoch ms (default `Date.now`). */
  now?: (() => number) | undefined;
}

/** The shared store failed and the tenant fails closed. */
export class SharedStoreUnavailableError extends Error {
  override name = 'SharedStoreUnavailableError';
}

/**
 * Rate-limit buckets, quota counters and breakers with fail-open / fail-closed around the shared
 * store. `run` tries the shared store; when it fails, a tenant whose plan says `open` is served
 * by this process's in-memory stores (a warning is logged once per outage and `storeFailOpen`
 * counted), one that says `closed` gets `SharedStoreUnavailableError`. Without a shared store the
 * local stores are the only ones and nothing fails over. Recovery needs no restart: after
 * `retrySharedAfterMs` the next request tries the shared store again.
 */
export class ProtectionStores {
  /** The in-process stores: the real ones on a single node, the fallback otherwise. */
  readonly local: { limits: MemoryLimitStore; quotas: MemoryQuotaStore; breakers: MemoryBreakerStore };
  /** Breakers that fall back to the local ones whatever the tenant: a breaker never refuses traffic by itself. */
  readonly breakers: BreakerStore;
  readonly #shared: SharedProtectionStores | undefined;
  readonly #logger: Logger;
  readonly #stats: GatewayStats;
  readonly #retryAfterMs: number;
  readonly #now: () => number;
  readonly #localSet: ProtectionStoreSet;
  readonly #sharedSet: ProtectionStoreSet | undefined;
  #failedAtMs: number | undefined;

  constructor(options: ProtectionStoresOptions) {
    this.local = {
      limits: new MemoryLimitStore(),
      quotas: new MemoryQuotaStore(),
      breakers: new MemoryBreakerStore(),
    };
    this.#shared = options.shared;
    this.#logger = options.logger;
    this.#stats = options.stats;
    this.#retryAfterMs = options.retrySharedAfterMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#localSet = { limits: this.local.limits, quotas: this.local.quotas, local: true };
    this.#sharedSet = options.shared && {
      limits: options.shared.limits,
      quotas: options.shared.quotas,
      local: false,
    };
    this.breakers = options.shared
      ? new FailoverBreakerStore(options.shared.breakers, this.local.breakers, () => {
          this.#stats.breakerFailOpen++;
        })
      : this.local.breakers;
  }

  /** Whether limits and quotas are shared with other replicas. */
  get isShared(): boolean {
    return this.#shared !== undefined;
  }

  /** Whether the shared store is failing right now (an outage began and no call has succeeded since). */
  get isDegraded(): boolean {
    return this.#failedAtMs !== undefined;
  }

  /**
   * Runs `op` on the shared stores, or on the local ones when the shared store fails and
   * `onFailure` is `open`; throws `SharedStoreUnavailableError` when it fails and `onFailure` is
   * `closed`. Resolves the value and the set it came from: a reservation is settled where it was made.
   */
  async run<T>(
    onFailure: 'open' | 'closed',
    op: (set: ProtectionStoreSet) => Promise<T>,
  ): Promise<{ value: T; set: ProtectionStoreSet }> {
    const shared = this.#sharedSet;
    if (!shared) return { value: await op(this.#localSet), set: this.#localSet };
    let error: unknown;
    if (this.#failedAtMs === undefined || this.#now() - this.#failedAtMs >= this.#retryAfterMs) {
      try {
        const value = await op(shared);
        this.#recovered();
        return { value, set: shared };
      } catch (err) {
        error = err;
        this.#failed(err);
      }
    }
    if (onFailure === 'closed') {
      this.#stats.storeFailClosed++;
      throw new SharedStoreUnavailableError(
        `the shared limit store (${this.#shared!.name}) is unavailable: ${errorText(error)}`,
      );
    }
    this.#stats.storeFailOpen++;
    return { value: await op(this.#localSet), set: this.#localSet };
  }

  /** Closes the shared stores' scripts and the local stores (not the connection they were given). */
  async close(): Promise<void> {
    await Promise.all([
      this.#shared?.limits.close(),
      this.#shared?.quotas.close(),
      this.#shared?.breakers.close(),
      this.local.limits.close(),
      this.local.quotas.close(),
      this.local.breakers.close(),
    ]);
  }

  #failed(err: unknown): void {
    if (this.#failedAtMs === undefined) {
      this.#stats.storeOutages++;
      this.#logger.warn(
        { err, store: this.#shared!.name },
        'shared limit store failed: tenants with onStoreFailure `open` are served with local limits, `closed` ones get 503',
      );
    }
    this.#failedAtMs = this.#now();
  }

  #recovered(): void {
    if (this.#failedAtMs === undefined) return;
    this.#failedAtMs = undefined;
    this.#logger.info({ store: this.#shared!.name }, 'shared limit store recovered');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : 'skipped during an outage';
}

/**
 * Breakers on the shared store, answered by local breakers while it fails: the breaker keeps
 * protecting upstreams with what this replica sees, and never turns a store outage into refusals.
 */
class FailoverBreakerStore implements BreakerStore {
  private readonly shared: BreakerStore;
  private readonly local: BreakerStore;
  private readonly onFailOpen: () => void;

  constructor(shared: BreakerStore, local: BreakerStore, onFailOpen: () => void) {
    this.shared = shared;
    this.local = local;
    this.onFailOpen = onFailOpen;
  }

  async record(
    depId: string,
    outcome: BreakerOutcome,
    nowMs: number,
    settings: BreakerSettings,
  ): Promise<BreakerState> {
    try {
      return await this.shared.record(depId, outcome, nowMs, settings);
    } catch {
      this.onFailOpen();
      return this.local.record(depId, outcome, nowMs, settings);
    }
  }

  async state(depIds: readonly string[], nowMs: number): Promise<Record<string, BreakerState>> {
    try {
      return await this.shared.state(depIds, nowMs);
    } catch {
      this.onFailOpen();
      return this.local.state(depIds, nowMs);
    }
  }

  async tryProbe(depId: string, nowMs: number): Promise<boolean> {
    try {
      return await this.shared.tryProbe(depId, nowMs);
    } catch {
      this.onFailOpen();
      return this.local.tryProbe(depId, nowMs);
    }
  }

  async close(): Promise<void> {}
}
