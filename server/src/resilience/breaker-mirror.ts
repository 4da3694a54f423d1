import { type BreakerState, emptySnapshot, type StateSnapshot } from '@switchyard/engine';
import type { BreakerStore } from '../stores/breaker-store.ts';

interface Mirrored {
  state: BreakerState;
  /** For `open`: when it turns half-open, as far as this replica knows. */
  openUntilMs: number;
}

/** Options of `BreakerMirror`. */
export interface BreakerMirrorOptions {
  /** Least time between two reads of the breaker store (default 1000 ms). */
  refreshMs?: number | undefined;
  /** Told when a refresh fails (the mirror keeps what it knew). */
  onRefreshError?: ((err: unknown) => void) | undefined;
}

/**
 * A cheap local copy of breaker states, for the engine's `StateSnapshot` and the breaker wrapper's
 * fast path: reading it costs no I/O. It learns from every outcome this replica records, and —
 * at most once per `refreshMs`, in the background, never on a request's critical path — from the
 * breaker store, so breakers opened by other replicas are seen within about a second.
 */
export class BreakerMirror {
  private readonly store: BreakerStore;
  readonly #states = new Map<string, Mirrored>();
  readonly #known = new Set<string>();
  readonly #refreshMs: number;
  readonly #onRefreshError: BreakerMirrorOptions['onRefreshError'];
  #refreshedAtMs = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  #snapshot: StateSnapshot = emptySnapshot;
  #snapshotValidUntilMs = Number.POSITIVE_INFINITY;

  constructor(store: BreakerStore, options: BreakerMirrorOptions = {}) {
    this.store = store;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#onRefreshError = options.onRefreshError;
  }

  /** What the store said a breaker became after an outcome (or a probe) of this replica. */
  observe(depId: string, state: BreakerState, nowMs: number, openMs: number): void {
    this.#known.add(depId);
    const prev = this.#states.get(depId);
    const openUntilMs = state === 'open' ? nowMs + openMs : 0;
    if (prev?.state === state && prev.openUntilMs === openUntilMs) return;
    if (state === 'closed') this.#states.delete(depId);
    else this.#states.set(depId, { state, openUntilMs });
    this.#snapshotValidUntilMs = Number.NEGATIVE_INFINITY;
  }

  /** The state of a deployment as far as this replica knows: an `open` whose time ran out reads `half_open`. */
  stateOf(depId: string, nowMs: number): BreakerState {
    const m = this.#states.get(depId);
    if (!m) return 'closed';
    if (m.state === 'open' && nowMs >= m.openUntilMs) return 'half_open';
    return m.state;
  }

  /**
   * The snapshot the engine decides on: the deployments whose breaker is open now (plans skip
   * them). Remembers `candidates` so the background refresh reads their state too.
   */
  snapshot(nowMs: number, candidates?: Iterable<string>): StateSnapshot {
    if (candidates) for (const id of candidates) this.#known.add(id);
    if (nowMs - this.#refreshedAtMs >= this.#refreshMs && this.#known.size > 0) void this.refresh(nowMs);
    if (nowMs < this.#snapshotValidUntilMs) return this.#snapshot;
    let breakers: Record<string, BreakerState> | undefined;
    let validUntil = Number.POSITIVE_INFINITY;
    for (const [id, m] of this.#states) {
      if (m.state !== 'open' || nowMs >= m.openUntilMs) continue;
      breakers ??= {};
      breakers[id] = 'open';
      if (m.openUntilMs < validUntil) validUntil = m.openUntilMs;
    }
    this.#snapshot = breakers ? Object.freeze({ breakers: Object.freeze(breakers) }) : emptySnapshot;
    this.#snapshotValidUntilMs = validUntil;
    return this.#snapshot;
  }

  /** Reads the store's state of every known deployment (one call in flight at a time). */
  refresh(nowMs: number): Promise<void> {
    this.#refreshedAtMs = nowMs;
    this.#refreshing ??= (async () => {
      try {
        const ids = [...this.#known];
        const states = await this.store.state(ids, nowMs);
        for (const id of ids) {
          const state = states[id] ?? 'closed';
          const prev = this.#states.get(id);
          // The store does not say when an open breaker turns half-open: trust it until the next refresh.
          if (state === 'open') {
            if (prev?.state !== 'open' || prev.openUntilMs < nowMs + this.#refreshMs)
              this.#states.set(id, { state, openUntilMs: nowMs + this.#refreshMs });
          } else if (state === 'half_open') this.#states.set(id, { state, openUntilMs: 0 });
          else this.#states.delete(id);
        }
        this.#snapshotValidUntilMs = Number.NEGATIVE_INFINITY;
      } catch (err) {
        this.#onRefreshError?.(err);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }
}
