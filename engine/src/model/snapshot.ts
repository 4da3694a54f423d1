/** Breaker state of one deployment, as the server's breaker store last saw it. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** A token bucket's level at a moment; the engine refills it to `env.nowMs` itself. */
export interface BucketLevel {
  tokens: number;
  atMs: number;
}

/**
 * The state the server read before deciding. Every map is keyed by the ids the engine itself puts
 * in plans (`Deployment.id`, `Charge.key`, `LimitCheck.key`), so the server knows what to read.
 * Missing entries mean "nothing known": closed breaker, nothing used, full bucket.
 */
export interface StateSnapshot {
  /** Breaker state per deployment id. */
  breakers?: Readonly<Record<string, BreakerState>>;
  /** Used + reserved amount per quota charge key in the current window. */
  quotaUsed?: Readonly<Record<string, number>>;
  /** Token bucket level per rate-limit key. */
  buckets?: Readonly<Record<string, BucketLevel>>;
}

/** The snapshot that knows nothing: every deployment healthy, every limit untouched. */
export const emptySnapshot: StateSnapshot = Object.freeze({});
