import type { DecisionRecord } from './decision-log.ts';

/** What `list` filters by. */
export interface DecisionQuery {
  tenant?: string | undefined;
  /** Most records returned, newest first (default 50). */
  limit?: number | undefined;
}

/**
 * The last `capacity` decisions in memory, by request id, for `GET /admin/v1/decisions`: "why did
 * request X go where it went?" answered without a log search. Records arrive already scrubbed.
 */
export class DecisionRing {
  readonly capacity: number;
  readonly #records = new Map<string, DecisionRecord>();

  /** Keeps the last `capacity` decisions (default 1000). */
  constructor(capacity = 1_000) {
    if (!(capacity >= 1)) throw new Error(`expected a ring capacity of at least 1, got \`${capacity}\``);
    this.capacity = capacity;
  }

  /** Decisions held. */
  get size(): number {
    return this.#records.size;
  }

  /** Adds a decision as the newest, dropping the oldest beyond capacity. */
  add(record: DecisionRecord): void {
    this.#records.delete(record.requestId);
    this.#records.set(record.requestId, record);
    for (const oldest of this.#records.keys()) {
      if (this.#records.size <= this.capacity) break;
      this.#records.delete(oldest);
    }
  }

  /** The decision of a request, while still held. */
  get(requestId: string): DecisionRecord | undefined {
    return this.#records.get(requestId);
  }

  /** The newest decisions, optionally of one tenant. */
  list(query: DecisionQuery = {}): DecisionRecord[] {
    const limit = query.limit ?? 50;
    const out: DecisionRecord[] = [];
    for (const record of [...this.#records.values()].reverse()) {
      if (out.length >= limit) break;
      if (query.tenant === undefined || record.tenant === query.tenant) out.push(record);
    }
    return out;
  }
}
