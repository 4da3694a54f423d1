import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../stores/api-key.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqliteKeyStore } from '../stores/sqlite/sqlite-key-store.ts';
import { runKeys } from './keys.command.ts';

const dir = mkdtempSync(join(tmpdir(), 'sy-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function keys(...args: string[]): Promise<string> {
  const lines: string[] = [];
  await runKeys([...args, '--state-dir', dir], (line) => lines.push(line));
  return lines.join('\n');
}

describe('switchyard keys', () => {
  it('creates a key printed once, lists it without the secret, and revokes it, on the SQLite file', async () => {
    const created = JSON.parse(
      await keys(
        'create',
        '--tenant',
        'demo',
        '--models',
        'fast,embed',
        '--expires',
        '30d',
        '--name',
        'ci',
        '--json',
      ),
    ) as {
      key: string;
      id: string;
      allowedModels: string[];
      expiresAt: string;
    };
    expect(created.key).toMatch(/^sk-sy-[A-Za-z0-9]{40}$/);
    expect(created.allowedModels).toEqual(['fast', 'embed']);
    expect(Date.parse(created.expiresAt)).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const listed = await keys('list');
    expect(listed).toContain(created.id);
    expect(listed).toContain('active');
    expect(listed).not.toContain(created.key);

    expect(await keys('revoke', created.id)).toBe(`revoked ${created.id}`);
    const db = openStateDatabase(dir);
    try {
      expect((await new SqliteKeyStore(db).findByHash(hashApiKey(created.key)))?.disabled).toBe(true);
    } finally {
      db.close();
    }
    expect(await keys('list')).toContain('revoked');
  });

  it('creates a key with caps, stored with the key and shown in the list', async () => {
    const created = JSON.parse(
      await keys(
        'create',
        '--tenant',
        'demo',
        '--cap',
        'usd=5/day',
        '--cap',
        'requests=100/minute',
        '--json',
      ),
    ) as { id: string; caps: unknown };
    expect(created.caps).toEqual([
      { window: 'day', usd: 5 },
      { window: 'minute', requests: 100 },
    ]);
    const db = openStateDatabase(dir);
    try {
      expect((await new SqliteKeyStore(db).get(created.id))?.caps).toEqual(created.caps);
    } finally {
      db.close();
    }
    expect(await keys('list')).toMatch(new RegExp(`${created.id}.*usd=5/day,requests=100/minute`));
    await expect(keys('create', '--tenant', 'x', '--cap', 'usd=5/fortnight')).rejects.toThrow(
      'invalid `--cap`: expected a cap like `usd=5/day`, `tokens=200000/hour` or `requests=100/minute`, got `usd=5/fortnight`',
    );
    await expect(keys('create', '--tenant', 'x', '--cap', 'usd=5/day', '--cap', 'usd=9/day')).rejects.toThrow(
      'invalid `--cap`: two caps share a unit and window; keep one',
    );
  });

  it('explains what is wrong with its arguments', async () => {
    await expect(keys('create')).rejects.toThrow('`keys create` needs `--tenant <name>`');
    await expect(keys('revoke', 'key_nope')).rejects.toThrow('no api key with id `key_nope`');
    await expect(keys('create', '--tenant', 'x', '--expires', 'soon')).rejects.toThrow(
      'invalid `--expires`: expected a duration like `30d` or `12h`, got `soon`',
    );
    await expect(keys('rotate')).rejects.toThrow(/^unknown action `rotate`; expected create, list or revoke/);
  });

  it('runs as `switchyard keys` from the command line, printing one line per key', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [new URL('../../bin/switchyard.js', import.meta.url).pathname, 'keys', 'list', '--state-dir', dir],
      {
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      },
    );
    // The two keys the tests above created.
    expect(stdout.trim().split('\n')).toHaveLength(2);
  });
});
