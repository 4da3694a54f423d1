import { dotProduct, type SemanticIndex, type SemanticMatch, unitVector } from '../semantic-index.ts';

/** Options of `MemorySemanticIndex`. */
export interface MemorySemanticIndexOptions {
  /** Most entries over all buckets; the least recently used go first (default 10 000). */
  maxEntries?: number | undefined;
  /** Most entries of one bucket (scope + parameters); its least recently used go first (default 1000). */
  maxEntriesPerBucket?: number | undefined;
}

interface IndexEntry {
  id: string;
  bucket: Map<string, IndexEntry>;
  bucketId: string;
  key: string;
  vector: Float32Array;
  expiresAt: number;
}

/**
 * A semantic index in this process: per bucket (scope + parameters hash) a brute-force scan of unit
 * float32 vectors, bounded by entry count overall and per bucket with least-recently-used eviction
 * (a hit counts as a use), and by each entry's ttl. A search costs one dot product per entry of the
 * bucket: fine up to a few thousand entries per bucket.
 */
export class MemorySemanticIndex implements SemanticIndex {
  /** Every entry, least recently used first. */
  readonly #entries = new Map<string, IndexEntry>();
  /** Entries per bucket, least recently used first. */
  readonly #buckets = new Map<string, Map<string, IndexEntry>>();
  readonly #maxEntries: number;
  readonly #maxPerBucket: number;

  constructor(options: MemorySemanticIndexOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxPerBucket = options.maxEntriesPerBucket ?? 1_000;
  }

  /** Entries held now, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The best live match of the bucket; a hit becomes the most recently used. */
  async search(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    threshold: number,
    nowMs: number,
  ): Promise<SemanticMatch | undefined> {
    const bucket = this.#buckets.get(bucketIdOf(scopeKey, paramsHash));
    const probe = unitVector(vector);
    if (!bucket || !probe) return undefined;
    let best: IndexEntry | undefined;
    let bestSimilarity = Number.NEGATIVE_INFINITY;
    for (const entry of [...bucket.values()]) {
      if (nowMs >= entry.expiresAt) {
        this.#drop(entry);
        continue;
      }
      if (entry.vector.length !== probe.length) continue;
      const similarity = dotProduct(probe, entry.vector);
      if (similarity > bestSimilarity) {
        best = entry;
        bestSimilarity = similarity;
      }
    }
    if (!best || bestSimilarity < threshold) return undefined;
    this.#touch(best);
    return { key: best.key, similarity: bestSimilarity };
  }

  /** Adds or replaces the entry, evicting least recently used entries beyond the bounds. */
  async add(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    key: string,
    ttlMs: number,
    nowMs: number,
  ): Promise<void> {
    const unit = unitVector(vector);
    const bucketId = bucketIdOf(scopeKey, paramsHash);
    const id = `${bucketId}\u0000${key}`;
    const existing = this.#entries.get(id);
    if (existing) this.#drop(existing);
    if (!unit || ttlMs <= 0) return;
    let bucket = this.#buckets.get(bucketId);
    if (!bucket) {
      bucket = new Map();
      this.#buckets.set(bucketId, bucket);
    }
    for (const oldest of bucket.values()) {
      if (bucket.size < this.#maxPerBucket) break;
      this.#drop(oldest);
    }
    for (const oldest of this.#entries.values()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#drop(oldest);
    }
    const entry: IndexEntry = { id, bucket, bucketId, key, vector: unit, expiresAt: nowMs + ttlMs };
    // The bucket may have been emptied (and forgotten) by the evictions above.
    this.#buckets.set(bucketId, bucket);
    bucket.set(key, entry);
    this.#entries.set(id, entry);
  }

  /** Drops the entry. */
  async remove(scopeKey: string, paramsHash: string, key: string): Promise<void> {
    const entry = this.#entries.get(`${bucketIdOf(scopeKey, paramsHash)}\u0000${key}`);
    if (entry) this.#drop(entry);
  }

  /** Drops every entry. */
  async close(): Promise<void> {
    this.#entries.clear();
    this.#buckets.clear();
  }

  #touch(entry: IndexEntry): void {
    this.#entries.delete(entry.id);
    this.#entries.set(entry.id, entry);
    entry.bucket.delete(entry.key);
    entry.bucket.set(entry.key, entry);
  }

  #drop(entry: IndexEntry): void {
    this.#entries.delete(entry.id);
    entry.bucket.delete(entry.key);
    if (entry.bucket.size === 0) this.#buckets.delete(entry.bucketId);
  }
}

function bucketIdOf(scopeKey: string, paramsHash: string): string {
  return `${scopeKey}\u0000${paramsHash}`;
}
