import type { DatabaseSync } from 'node:sqlite';
import { afterAll } from 'vitest';
import { openStateDatabase } from './open-state-database.ts';

/**
 * For SQLite store tests: a function that opens a fresh, migrated in-memory state database; every
 * database it opened is closed after the test file. Call it at the top level of the test file.
 */
export function memoryStateDatabases(): () => DatabaseSync {
  const dbs: DatabaseSync[] = [];
  afterAll(() => {
    for (const db of dbs) db.close();
  });
  return () => {
    const db = openStateDatabase(':memory:');
    dbs.push(db);
    return db;
  };
}
