import { isSameHash } from '../api-key.ts';
import {
  type ApiKeyRecord,
  applyKeyChanges,
  DuplicateKeyError,
  type KeyChanges,
  type KeyListFilter,
  type KeyStore,
} from '../key-store.ts';

function copy(record: ApiKeyRecord): ApiKeyRecord {
  return {
    ...record,
    allowedModels: record.allowedModels ? [...record.allowedModels] : undefined,
    caps: record.caps ? record.caps.map((c) => ({ ...c })) : undefined,
  };
}

/** Keys in process memory: for tests and throwaway gateways. Lost on restart. */
export class MemoryKeyStore implements KeyStore {
  readonly #byHash = new Map<string, ApiKeyRecord>();
  readonly #hashById = new Map<string, string>();

  /** Stores a key; rejects a duplicate id or hash. */
  async create(hash: string, record: ApiKeyRecord): Promise<void> {
    if (this.#byHash.has(hash) || this.#hashById.has(record.id)) {
      throw new DuplicateKeyError(`an api key with id \`${record.id}\` or the same secret already exists`);
    }
    this.#byHash.set(hash, copy(record));
    this.#hashById.set(record.id, hash);
  }

  /** The key stored under `hash`; the map lookup is confirmed with a constant-time comparison. */
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const found = this.#byHash.get(hash);
    if (!found) return undefined;
    const stored = this.#hashById.get(found.id);
    return stored !== undefined && isSameHash(stored, hash) ? copy(found) : undefined;
  }

  /** The key with this id. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const hash = this.#hashById.get(id);
    const found = hash === undefined ? undefined : this.#byHash.get(hash);
    return found ? copy(found) : undefined;
  }

  /** Keys, oldest first. */
  async list(filter: KeyListFilter = {}): Promise<ApiKeyRecord[]> {
    return [...this.#byHash.values()]
      .filter((r) => filter.tenant === undefined || r.tenant === filter.tenant)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(copy);
  }

  /** Changes a key. */
  async update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined> {
    const hash = this.#hashById.get(id);
    const found = hash === undefined ? undefined : this.#byHash.get(hash);
    if (hash === undefined || !found) return undefined;
    const next = applyKeyChanges(found, changes);
    this.#byHash.set(hash, copy(next));
    return copy(next);
  }

  /** Disables a key. */
  async disable(id: string): Promise<boolean> {
    const hash = this.#hashById.get(id);
    const found = hash === undefined ? undefined : this.#byHash.get(hash);
    if (!found) return false;
    found.disabled = true;
    return true;
  }

  /** Deletes a key. */
  async delete(id: string): Promise<boolean> {
    const hash = this.#hashById.get(id);
    if (hash === undefined) return false;
    this.#hashById.delete(id);
    this.#byHash.delete(hash);
    return true;
  }

  /** Records the last use. */
  async touch(id: string, atMs: number): Promise<void> {
    const hash = this.#hashById.get(id);
    const found = hash === undefined ? undefined : this.#byHash.get(hash);
    if (found && (found.lastUsedAt === undefined || atMs > found.lastUsedAt)) found.lastUsedAt = atMs;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
