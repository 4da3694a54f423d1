import type { CachedResponse, ResponseCache } from '../response-cache.ts';

/** Options of `MemoryResponseCache`. */
export interface MemoryResponseCacheOptions {
  /** Most bytes of serialized entries (keys included) held; least recently used go first (default 64 MiB). */
  maxBytes?: number | undefined;
  /** Largest single entry accepted; larger ones are not cached (default `maxBytes / 16`). */
  maxEntryBytes?: number | undefined;
}

interface MemoryEntry {
  json: string;
  bytes: number;
  expiresAt: number;
}

/**
 * A response cache in this process, bounded by the bytes of its serialized entries with
 * least-recently-used eviction, and by each entry's ttl. Entries are kept serialized: the size is
 * exact, and every `get` parses a fresh copy that callers may change freely.
 */
export class MemoryResponseCache implements ResponseCache {
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  #bytes = 0;

  constructor(options: MemoryResponseCacheOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxEntryBytes = Math.min(this.#maxBytes, options.maxEntryBytes ?? Math.floor(this.#maxBytes / 16));
  }

  /** Bytes held now (serialized entries and their keys). */
  get sizeBytes(): number {
    return this.#bytes;
  }

  /** Entries held now, expired ones not yet evicted included. */
  get size(): number {
    return this.#entries.size;
  }

  /** A fresh copy of the entry; reading it makes it the most recently used. */
  async get(key: string, nowMs: number): Promise<CachedResponse | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (nowMs >= entry.expiresAt) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    this.#entries.set(key, entry);
    return JSON.parse(entry.json) as CachedResponse;
  }

  /** Stores the entry, evicting the least recently used until it fits; declines one over `maxEntryBytes`. */
  async set(key: string, value: CachedResponse, ttlMs: number, nowMs: number): Promise<void> {
    this.#remove(key);
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json) + Buffer.byteLength(key);
    if (bytes > this.#maxEntryBytes || ttlMs <= 0) return;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
    this.#entries.set(key, { json, bytes, expiresAt: nowMs + ttlMs });
    this.#bytes += bytes;
  }

  /** Removes the entry. */
  async delete(key: string): Promise<boolean> {
    return this.#remove(key);
  }

  /** Drops every entry. */
  async close(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remove(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return true;
  }
}
