/** The nearest stored conversation found by a semantic search. */
export interface SemanticMatch {
  /** The response-cache key the entry points at. */
  key: string;
  /** Cosine similarity to the probe, in [-1, 1]. */
  similarity: number;
}

/**
 * Embeddings of cached conversations, searched by cosine similarity. Entries live in buckets of one
 * scope (`CachePlan.scopeKey`) and one parameters hash (`chatParametersHash`): a search only ever
 * compares against its own bucket, so an entry never crosses tenants or keys, nor answers a request
 * with other parameters. Vectors of another dimension are never compared. Like every store, an index
 * never reads the clock and never owns the connection it is given; failures reject.
 */
export interface SemanticIndex {
  /** The most similar live entry of the bucket with similarity ≥ `threshold`, if any. */
  search(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    threshold: number,
    nowMs: number,
  ): Promise<SemanticMatch | undefined>;
  /**
   * Adds (or replaces) the entry `key` of the bucket, live until `nowMs + ttlMs`. A full bucket makes
   * room by dropping entries (which ones is the implementation's bound policy).
   */
  add(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    key: string,
    ttlMs: number,
    nowMs: number,
  ): Promise<void>;
  /** Drops the entry `key` of the bucket (e.g. when its response is gone from the response cache). */
  remove(scopeKey: string, paramsHash: string, key: string): Promise<void>;
  /** Releases what the index owns (not a connection it was given). */
  close(): Promise<void>;
}

/**
 * The vector scaled to length 1 as float32 (so cosine similarity is a dot product), or undefined for
 * a zero or non-finite vector, which is similar to nothing.
 */
export function unitVector(vector: ArrayLike<number>): Float32Array | undefined {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const unit = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) unit[i] = vector[i]! / norm;
  return unit;
}

/** Dot product of two unit vectors of the same length: their cosine similarity. */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
