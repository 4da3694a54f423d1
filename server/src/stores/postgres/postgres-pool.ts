import { Pool } from 'pg';

/** Options of `createPostgresPool`. */
export interface PostgresPoolOptions {
  /** Schema the pool's connections use first (`search_path`); default: the server's default. */
  schema?: string | undefined;
  /** Most connections open at once (default 10). */
  max?: number | undefined;
  /** Longest wait for a connection, in ms (default 2000). */
  connectTimeoutMs?: number | undefined;
  /** Longest a statement may run before the server cancels it, in ms (default 10000). */
  statementTimeoutMs?: number | undefined;
  /** Told about errors of idle connections (a query that fails rejects on its own); default: ignored. */
  onError?: ((error: Error) => void) | undefined;
}

/**
 * A `pg` pool for `url` (`postgres://user:password@host:port/database`). Connections open on first
 * use, so a Postgres that is down shows up as rejected queries, not here. An idle connection that
 * breaks is reported to `onError` and replaced, instead of crashing the process as `pg` would.
 * Run `migratePostgres(pool)` before using the stores. Close with `pool.end()`.
 */
export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): Pool {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) {
    throw new Error(`expected \`schema\` to be a lowercase sql identifier, got \`${options.schema}\``);
  }
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: 'switchyard',
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}
