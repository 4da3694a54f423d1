import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate } from './migrations.ts';

/** The state database's file name inside the state directory. */
export const stateDatabaseFile = 'switchyard.db';

/**
 * Opens (creating when needed) the SQLite state database in `stateDir`, in WAL mode so the CLI can
 * read and write it while a server runs, and brings its schema up to date. Opening twice is harmless.
 * `:memory:` opens a private in-memory database.
 */
export function openStateDatabase(stateDir: string): DatabaseSync {
  const path = stateDir === ':memory:' ? ':memory:' : join(stateDir, stateDatabaseFile);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('pragma busy_timeout = 5000');
  if (path !== ':memory:') db.exec('pragma journal_mode = wal');
  db.exec('pragma synchronous = normal');
  db.exec('pragma foreign_keys = on');
  migrate(db);
  return db;
}
