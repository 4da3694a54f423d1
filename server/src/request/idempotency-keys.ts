/** Options of `IdempotencyKeys`. */
export interface IdempotencyKeysOptions {
  /** Keys remembered at most; the oldest is forgotten first (default 10 000). */
  maxKeys?: number | undefined;
  /** How long a key is remembered, in ms (default 1 h). */
  ttlMs?: number | undefined;
}

/**
 * The `Idempotency-Key` headers seen recently, per API key: a bounded LRU with a TTL. A request
 * whose idempotency key was already seen is a client's retry of something that may have reached
 * the upstream, so the gateway must not multiply it with retries of its own.
 */
export class IdempotencyKeys {
  readonly #seen = new Map<string, number>();
  readonly #max: number;
  readonly #ttlMs: number;

  constructor(options: IdempotencyKeysOptions = {}) {
    this.#max = options.maxKeys ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 3_600_000;
  }

  /**
   * Records the key and says whether it is new (true when no header was sent): false when the same
   * API key sent the same idempotency key within the TTL.
   */
  isFirstUse(apiKeyId: string, header: string | string[] | undefined, nowMs: number): boolean {
    if (typeof header !== 'string' || header === '' || header.length > 256) return true;
    const id = `${apiKeyId}\u0000${header}`;
    const at = this.#seen.get(id);
    if (at !== undefined) {
      this.#seen.delete(id);
      this.#seen.set(id, nowMs);
      return nowMs - at >= this.#ttlMs;
    }
    if (this.#seen.size >= this.#max) {
      // Map order is insertion order, refreshed on every hit: the first entry is the least recent.
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(id, nowMs);
    return true;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#seen.size;
  }
}
