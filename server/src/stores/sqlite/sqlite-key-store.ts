import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { isSameHash } from '../api-key.ts';
import {
  type ApiKeyRecord,
  applyKeyChanges,
  DuplicateKeyError,
  type KeyCap,
  type KeyChanges,
  type KeyListFilter,
  type KeyStore,
} from '../key-store.ts';

interface KeyRow {
  id: string;
  hash: string;
  name: string;
  tenant: string;
  prefix: string;
  allowed_models: string | null;
  expires_at: number | null;
  disabled: number;
  created_at: number;
  last_used_at: number | null;
  caps: string | null;
}

function toRecord(row: KeyRow): ApiKeyRecord {
  const record: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    prefix: row.prefix,
    disabled: row.disabled !== 0,
    createdAt: row.created_at,
  };
  if (row.allowed_models !== null) record.allowedModels = JSON.parse(row.allowed_models) as string[];
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  if (row.last_used_at !== null) record.lastUsedAt = row.last_used_at;
  if (row.caps !== null) record.caps = JSON.parse(row.caps) as KeyCap[];
  return record;
}

/**
 * API keys in the SQLite state database (see `openStateDatabase`). The database is owned by the
 * caller: `close()` leaves it open for the other stores sharing it.
 */
export class SqliteKeyStore implements KeyStore {
  readonly #insert: StatementSync;
  readonly #byHash: StatementSync;
  readonly #byId: StatementSync;
  readonly #all: StatementSync;
  readonly #byTenant: StatementSync;
  readonly #disable: StatementSync;
  readonly #delete: StatementSync;
  readonly #touch: StatementSync;
  readonly #update: StatementSync;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      `insert into api_keys (id, hash, name, tenant, prefix, allowed_models, expires_at, disabled, created_at, last_used_at, caps)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#byHash = db.prepare('select * from api_keys where hash = ?');
    this.#byId = db.prepare('select * from api_keys where id = ?');
    this.#all = db.prepare('select * from api_keys order by created_at, rowid');
    this.#byTenant = db.prepare('select * from api_keys where tenant = ? order by created_at, rowid');
    this.#disable = db.prepare('update api_keys set disabled = 1 where id = ?');
    this.#delete = db.prepare('delete from api_keys where id = ?');
    this.#update = db.prepare(
      'update api_keys set name = ?, allowed_models = ?, expires_at = ?, caps = ? where id = ?',
    );
    this.#touch = db.prepare(
      'update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)',
    );
  }

  /** Stores a key; rejects a duplicate id or hash. */
  async create(hash: string, r: ApiKeyRecord): Promise<void> {
    try {
      this.#insert.run(
        r.id,
        hash,
        r.name,
        r.tenant,
        r.prefix,
        r.allowedModels ? JSON.stringify(r.allowedModels) : null,
        r.expiresAt ?? null,
        r.disabled ? 1 : 0,
        r.createdAt,
        r.lastUsedAt ?? null,
        r.caps ? JSON.stringify(r.caps) : null,
      );
    } catch (err) {
      if (/UNIQUE|PRIMARY KEY/i.test((err as Error).message)) {
        throw new DuplicateKeyError(`an api key with id \`${r.id}\` or the same secret already exists`);
      }
      throw err;
    }
  }

  /** The key stored under `hash`; the index lookup is confirmed with a constant-time comparison. */
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#byHash.get(hash) as KeyRow | undefined;
    return row && isSameHash(row.hash, hash) ? toRecord(row) : undefined;
  }

  /** The key with this id. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#byId.get(id) as KeyRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Keys, oldest first. */
  async list(filter: KeyListFilter = {}): Promise<ApiKeyRecord[]> {
    const rows = (filter.tenant === undefined
      ? this.#all.all()
      : this.#byTenant.all(filter.tenant)) as unknown as KeyRow[];
    return rows.map(toRecord);
  }

  /** Changes a key (read, apply, write: one synchronous step, so nothing interleaves). */
  async update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined> {
    const row = this.#byId.get(id) as KeyRow | undefined;
    if (!row) return undefined;
    const next = applyKeyChanges(toRecord(row), changes);
    this.#update.run(
      next.name,
      next.allowedModels ? JSON.stringify(next.allowedModels) : null,
      next.expiresAt ?? null,
      next.caps ? JSON.stringify(next.caps) : null,
      id,
    );
    return next;
  }

  /** Disables a key. */
  async disable(id: string): Promise<boolean> {
    return Number(this.#disable.run(id).changes) > 0;
  }

  /** Deletes a key. */
  async delete(id: string): Promise<boolean> {
    return Number(this.#delete.run(id).changes) > 0;
  }

  /** Records the last use. */
  async touch(id: string, atMs: number): Promise<void> {
    this.#touch.run(atMs, id, atMs);
  }

  /** The database belongs to whoever opened it; nothing to release here. */
  async close(): Promise<void> {}
}
