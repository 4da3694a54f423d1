import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey, issueApiKey } from '../api-key.ts';
import { runKeyStoreContract } from '../key-store.contract.ts';
import { migrate, migrations } from './migrations.ts';
import { openStateDatabase } from './open-state-database.ts';
import { SqliteKeyStore } from './sqlite-key-store.ts';

const dirs: string[] = [];
const dbs: DatabaseSync[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-sqlite-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const db of dbs) db.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

runKeyStoreContract('sqlite', () => {
  const db = openStateDatabase(tempDir());
  dbs.push(db);
  return new SqliteKeyStore(db);
});

describe('sqlite state database', () => {
  it('opens an existing file again without reapplying migrations and keeps its keys', async () => {
    const dir = tempDir();
    const first = openStateDatabase(dir);
    const { key } = await issueApiKey(new SqliteKeyStore(first), { tenant: 'default' }, 1);
    first.close();
    const second = openStateDatabase(dir);
    dbs.push(second);
    expect(migrate(second)).toEqual([]);
    const versions = second.prepare('select version from schema_migrations order by version').all();
    expect(versions.map((v) => v.version)).toEqual(migrations.map((m) => m.version));
    expect(await new SqliteKeyStore(second).findByHash(hashApiKey(key))).toBeDefined();
  });

  it('runs in WAL mode so the CLI and a running server can share the file', () => {
    const db = openStateDatabase(tempDir());
    dbs.push(db);
    expect(db.prepare('pragma journal_mode').get()).toEqual({ journal_mode: 'wal' });
  });

  it('rolls back a failing migration and names it', () => {
    const db = openStateDatabase(':memory:');
    dbs.push(db);
    const broken = [
      ...migrations,
      { version: 999, name: 'broken', sql: 'create table x (a); select * from nowhere' },
    ];
    expect(() => migrate(db, broken)).toThrow(/migration 999 \(broken\) failed/);
    expect(db.prepare("select name from sqlite_master where name = 'x'").get()).toBeUndefined();
  });

  it('sees keys written by another connection to the same file (the CLI while the server runs)', async () => {
    const dir = tempDir();
    const server = openStateDatabase(dir);
    const cli = openStateDatabase(dir);
    dbs.push(server, cli);
    const { key, record } = await issueApiKey(new SqliteKeyStore(cli), { tenant: 'default' }, 1);
    expect((await new SqliteKeyStore(server).findByHash(hashApiKey(key)))?.id).toBe(record.id);
    await new SqliteKeyStore(cli).disable(record.id);
    expect((await new SqliteKeyStore(server).get(record.id))?.disabled).toBe(true);
  });
});
