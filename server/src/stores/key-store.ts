/** An API key as stored: never the key itself, only its SHA-256 hash and a short display prefix. */
export interface ApiKeyRecord {
  /** Stable id, `key_…`: safe to log and show. */
  id: string;
  /** What the key is for. */
  name: string;
  /** The tenant the key belongs to. */
  tenant: string;
  /** The first characters of the key (`sk-sy-AbCd`), to recognise it in lists. */
  prefix: string;
  /** Logical models (or route aliases) the key may use; undefined means whatever its tenant may use. */
  allowedModels?: readonly string[] | undefined;
  /** Epoch ms after which the key is refused; undefined never expires. */
  expiresAt?: number | undefined;
  disabled: boolean;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last request seen with the key (updated at most about once a minute). */
  lastUsedAt?: number | undefined;
}

/** Which keys `list` returns. */
export interface KeyListFilter {
  tenant?: string | undefined;
}

/**
 * Where API keys live. Every method is async so that SQLite, Postgres and memory implementations
 * share one interface; each implementation runs `runKeyStoreContract`.
 */
export interface KeyStore {
  /** Stores a new key under the SHA-256 hex `hash` of its secret; rejects a duplicate id or hash. */
  create(hash: string, record: ApiKeyRecord): Promise<void>;
  /** The key whose secret hashes to `hash` (compared in constant time), disabled or not. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** The key with this id. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys, oldest first. */
  list(filter?: KeyListFilter): Promise<ApiKeyRecord[]>;
  /** Disables a key for good; resolves false when there is no such key. */
  disable(id: string): Promise<boolean>;
  /** Deletes a key; resolves false when there is no such key. */
  delete(id: string): Promise<boolean>;
  /** Records that the key was used at `atMs` (best effort; never moves backwards). */
  touch(id: string, atMs: number): Promise<void>;
  /** Releases the store's resources. */
  close(): Promise<void>;
}

/** Thrown by `KeyStore.create` when the id or hash is already stored. */
export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}
