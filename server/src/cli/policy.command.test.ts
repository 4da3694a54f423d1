import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.ts';

const root = join(import.meta.dirname, '../../..');
const defaultPolicy = join(root, 'policies/default');

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard policy check', () => {
  it('accepts the default policy and names its version', async () => {
    const r = await cli('policy', 'check', defaultPolicy);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ default@[0-9a-f]{12}: 1 file\(s\), 0 errors, 0 warnings/);
  });

  it('reports every mistake with file:line:col, code and a caret, and exits 1', async () => {
    const bad = join(dir, 'typo');
    await cp(defaultPolicy, bad, { recursive: true });
    const text = await readFile(join(bad, 'policy.yaml'), 'utf8');
    await writeFile(
      join(bad, 'policy.yaml'),
      text
        .replace('target: strong\n  - id: long-context', 'target: strnog\n  - id: long-context')
        .replace('ttl: 1h', 'ttl: 1 hour'),
    );
    const r = await cli('policy', 'check', bad);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /policy\.yaml:\d+:\d+ error SY_POLICY_UNKNOWN_MODEL route `code` targets unknown model `strnog`/,
    );
    expect(r.out).toMatch(/policy\.yaml:\d+:\d+ error SY_POLICY_INVALID_VALUE `cache\[0\]\.ttl`/);
    expect(r.out).toContain('^');
    const json = await cli('policy', 'check', bad, '--format', 'json');
    expect(JSON.parse(json.out).errors.map((e: { code: string }) => e.code)).toEqual([
      'SY_POLICY_UNKNOWN_MODEL',
      'SY_POLICY_INVALID_VALUE',
    ]);
  });
});

describe('switchyard policy test', () => {
  it('passes the default policy cases and bad fixtures', async () => {
    const r = await cli('policy', 'test', defaultPolicy);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/policy tests passed: \d+ passed, 0 failed/);
  });

  it('shows expected and actual values for a failing case and exits 1', async () => {
    const folder = join(dir, 'failing');
    await cp(defaultPolicy, folder, { recursive: true });
    await writeFile(
      join(folder, 'policy.test.yaml'),
      'cases:\n  - name: auto goes to strong\n    request: { model: auto }\n    expect: { target: strong }\n',
    );
    const r = await cli('policy', 'test', folder);
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ auto goes to strong');
    expect(r.out).toMatch(/target: expected strong\s+actual +fast/);
  });
});

describe('switchyard policy explain', () => {
  it('explains an OpenAI request body: the decision and every rule considered', async () => {
    const body = join(dir, 'req.json');
    await writeFile(
      body,
      JSON.stringify({
        model: 'auto',
        messages: [{ role: 'user', content: 'hi' }],
        metadata: { tags: 'code' },
      }),
    );
    const r = await cli('policy', 'explain', defaultPolicy, '--request', body, '--tenant', 'demo');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/route +code/);
    expect(r.out).toMatch(/✓ route:code/);
    expect(r.out).toContain('reasons: tenant:demo, route:code');
  });

  it('explains a denial from request facts', async () => {
    const facts = join(dir, 'facts.json');
    await writeFile(facts, JSON.stringify({ model: 'strong', tenant: 'trial' }));
    const r = await cli('policy', 'explain', defaultPolicy, '--request', facts);
    expect(r.out).toContain('denied 403 model_not_allowed');
  });

  it('says what is wrong with a request file', async () => {
    const facts = join(dir, 'bad.json');
    await writeFile(facts, '{"model": 5}');
    const r = await cli('policy', 'explain', defaultPolicy, '--request', facts);
    expect(r.code).toBe(1);
    expect(r.out).toContain('`model`');
  });
});

describe('switchyard policy diff', () => {
  it('shows semantic changes and which sample decisions change', async () => {
    const changed = join(dir, 'cheaper');
    await cp(defaultPolicy, changed, { recursive: true });
    const text = await readFile(join(changed, 'policy.yaml'), 'utf8');
    await writeFile(
      join(changed, 'policy.yaml'),
      `# reformatted\n${text.replace('target: strong\n  - id: long-context', 'target: fast\n  - id: long-context')}`,
    );
    const r = await cli('policy', 'diff', defaultPolicy, changed);
    expect(r.code).toBe(0);
    expect(r.out).toContain('~ routes[code].target: strong → fast');
    expect(r.out).toMatch(/impact: [1-9]\d* of \d+ sample request\(s\) decide differently/);
    expect(r.out).toContain('model: strong → fast');
    const md = await cli('policy', 'diff', defaultPolicy, changed, '--format', 'markdown');
    expect(md.out).toContain('### Policy diff');
  });
});

describe('the switchyard bin', () => {
  it('prints help after a plain install', async () => {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/switchyard'), ['--help']);
    expect(stdout).toContain('usage: switchyard <command>');
    expect(stdout).toContain('policy');
  });
});
