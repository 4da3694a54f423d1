/** A calendar window (UTC) of a per-key cap: the same windows as policy quotas. */
export type KeyCapWindow = 'minute' | 'hour' | 'day' | 'month';

/**
 * A spending cap on one key, on top of its tenant's quotas: at most `tokens` (input + output),
 * `requests` or `usd` per calendar window. Each cap sets exactly one of the three.
 */
export interface KeyCap {
  window: KeyCapWindow;
  tokens?: number | undefined;
  requests?: number | undefined;
  usd?: number | undefined;
}

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
  /** Caps of this key (reserved and settled like the tenant's quotas); undefined: none. */
  caps?: readonly KeyCap[] | undefined;
  disabled: boolean;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last request seen with the key (updated at most about once a minute). */
  lastUsedAt?: number | undefined;
}

/** What `KeyStore.update` may change; `null` clears the field. */
export interface KeyChanges {
  name?: string | undefined;
  allowedModels?: readonly string[] | null | undefined;
  expiresAt?: number | null | undefined;
  caps?: readonly KeyCap[] | null | undefined;
}

/** The record with `changes` applied (shared by the implementations, so they agree). */
export function applyKeyChanges(record: ApiKeyRecord, changes: KeyChanges): ApiKeyRecord {
  const next: ApiKeyRecord = { ...record };
  if (changes.name !== undefined) next.name = changes.name;
  if (changes.allowedModels !== undefined)
    next.allowedModels =
      changes.allowedModels === null || changes.allowedModels.length === 0
        ? undefined
        : [...changes.allowedModels];
  if (changes.expiresAt !== undefined) next.expiresAt = changes.expiresAt ?? undefined;
  if (changes.caps !== undefined)
    next.caps =
      changes.caps === null || changes.caps.length === 0 ? undefined : changes.caps.map((c) => ({ ...c }));
  for (const k of ['allowedModels', 'expiresAt', 'caps'] as const) if (next[k] === undefined) delete next[k];
  return next;
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
  /**
   * Changes a key's name, model list, expiry or caps (`null` clears an optional field, a missing
   * field is left as it is); resolves the updated key, or undefined when there is no such key.
   */
  update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined>;
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
