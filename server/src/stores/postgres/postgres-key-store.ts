import type { Pool } from 'pg';
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
  allowed_models: string[] | null;
  expires_at: string | null;
  disabled: boolean;
  created_at: string;
  last_used_at: string | null;
  caps: KeyCap[] | null;
}

const columns =
  'id, hash, name, tenant, prefix, allowed_models, expires_at, disabled, created_at, last_used_at, caps';

/** `pg` returns bigint columns as strings; epoch milliseconds fit a double exactly. */
function toRecord(row: KeyRow): ApiKeyRecord {
  const record: ApiKeyRecord = {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    prefix: row.prefix,
    disabled: row.disabled,
    createdAt: Number(row.created_at),
  };
  if (row.allowed_models !== null) record.allowedModels = row.allowed_models;
  if (row.expires_at !== null) record.expiresAt = Number(row.expires_at);
  if (row.last_used_at !== null) record.lastUsedAt = Number(row.last_used_at);
  if (row.caps !== null) record.caps = row.caps;
  return record;
}

/**
 * API keys in Postgres (table `api_keys`, see `migratePostgres`), for gateways that scale out. The
 * pool is owned by the caller: `close()` leaves it open for the other stores sharing it.
 */
export class PostgresKeyStore implements KeyStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Stores a key; rejects a duplicate id or hash. */
  async create(hash: string, r: ApiKeyRecord): Promise<void> {
    try {
      await this.#pool.query(
        `insert into api_keys (${columns}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          r.id,
          hash,
          r.name,
          r.tenant,
          r.prefix,
          r.allowedModels ? JSON.stringify(r.allowedModels) : null,
          r.expiresAt ?? null,
          r.disabled,
          r.createdAt,
          r.lastUsedAt ?? null,
          r.caps ? JSON.stringify(r.caps) : null,
        ],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new DuplicateKeyError(`an api key with id \`${r.id}\` or the same secret already exists`);
      }
      throw err;
    }
  }

  /** The key stored under `hash`; the index lookup is confirmed with a constant-time comparison. */
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.#pool.query<KeyRow>(`select ${columns} from api_keys where hash = $1`, [
      hash,
    ]);
    const row = rows[0];
    return row && isSameHash(row.hash, hash) ? toRecord(row) : undefined;
  }

  /** The key with this id. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.#pool.query<KeyRow>(`select ${columns} from api_keys where id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Keys, oldest first (ties in creation order). */
  async list(filter: KeyListFilter = {}): Promise<ApiKeyRecord[]> {
    const { rows } =
      filter.tenant === undefined
        ? await this.#pool.query<KeyRow>(`select ${columns} from api_keys order by created_at, seq`)
        : await this.#pool.query<KeyRow>(
            `select ${columns} from api_keys where tenant = $1 order by created_at, seq`,
            [filter.tenant],
          );
    return rows.map(toRecord);
  }

  /** Changes a key: read and write in one transaction, the row locked, so concurrent updates do not interleave. */
  async update(id: string, changes: KeyChanges): Promise<ApiKeyRecord | undefined> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<KeyRow>(
        `select ${columns} from api_keys where id = $1 for update`,
        [id],
      );
      if (!rows[0]) {
        await client.query('rollback');
        return undefined;
      }
      const next = applyKeyChanges(toRecord(rows[0]), changes);
      await client.query(
        'update api_keys set name = $2, allowed_models = $3, expires_at = $4, caps = $5 where id = $1',
        [
          id,
          next.name,
          next.allowedModels ? JSON.stringify(next.allowedModels) : null,
          next.expiresAt ?? null,
          next.caps ? JSON.stringify(next.caps) : null,
        ],
      );
      await client.query('commit');
      return next;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Disables a key. */
  async disable(id: string): Promise<boolean> {
    return (
      ((await this.#pool.query('update api_keys set disabled = true where id = $1', [id])).rowCount ?? 0) > 0
    );
  }

  /** Deletes a key. */
  async delete(id: string): Promise<boolean> {
    return ((await this.#pool.query('delete from api_keys where id = $1', [id])).rowCount ?? 0) > 0;
  }

  /** Records the last use; never moves it backwards. */
  async touch(id: string, atMs: number): Promise<void> {
    await this.#pool.query(
      'update api_keys set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2)',
      [id, atMs],
    );
  }

  /** The pool belongs to whoever created it; nothing to release here. */
  async close(): Promise<void> {}
}
