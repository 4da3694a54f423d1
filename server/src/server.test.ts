import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultPolicyDir } from './testing/start-test-gateway.ts';

const bin = new URL('../bin/switchyard.js', import.meta.url).pathname;
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-serve-'));
  dirs.push(dir);
  return dir;
}

interface Served {
  child: ChildProcess;
  url: string;
  key: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Runs `switchyard serve` as a child process and waits for its banner. */
async function serve(dir: string, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--policy', defaultPolicyDir, '--port', '0', '--state-dir', dir],
    {
      env: { ...process.env, SWITCHYARD_LOG_LEVEL: 'warn', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  // `close`: the process exited and its output has been read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  while (!/OpenAI SDK/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`serve did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
  const key = /development key \(tenant default\): (sk-sy-\S+)/.exec(out)![1]!;
  return { child, url, key, stdout: () => out, exited };
}

describe('switchyard serve', () => {
  it('prints the URL, a development key, a curl and the SDK settings, and keeps the key across restarts', async () => {
    const dir = stateDir();
    const first = await serve(dir);
    expect(first.stdout()).toContain(`curl ${first.url}/v1/chat/completions`);
    expect(first.stdout()).toContain(`baseURL: '${first.url}/v1'`);
    expect(readFileSync(join(dir, 'dev-key'), 'utf8').trim()).toBe(first.key);
    expect(statSync(join(dir, 'dev-key')).mode & 0o777).toBe(0o600);
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: first.key, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    expect(answer.choices[0]?.message.content).toMatch(/\w/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await serve(dir);
    expect(second.key).toBe(first.key);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('on SIGTERM stops taking requests, lets a stream in flight finish, writes every log line, then exits 0', async () => {
    const served = await serve(stateDir(), {
      SWITCHYARD_SHUTDOWN_TIMEOUT_MS: '10000',
      SWITCHYARD_LOG_LEVEL: 'info',
    });
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: served.key, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'fast',
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a long story about rivers and mountains' }],
    });
    let text = '';
    let chunksAfterSignal = -1;
    let refused: Promise<number | string> | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunksAfterSignal >= 0) chunksAfterSignal++;
      else {
        chunksAfterSignal = 0;
        served.child.kill('SIGTERM');
        // A new request while draining is refused (connection refused, or 503 on a kept-alive socket).
        refused = new Promise((r) => setTimeout(r, 20)).then(() =>
          fetch(`${served.url}/v1/models`, { headers: { authorization: `Bearer ${served.key}` } }).then(
            (r) => r.status,
            () => 'refused',
          ),
        );
      }
    }
    expect(chunksAfterSignal).toBeGreaterThan(3);
    expect(text.split(' ').length).toBeGreaterThan(5);
    expect(['refused', 503]).toContain(await refused);
    expect(await served.exited).toBe(0);
    // Lines go out asynchronously; shutdown waits for them: the stream's one line and `stopped` last.
    const lines = served
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'request' && l.path === '/v1/chat/completions')).toMatchObject([
      { stream: true, status: 200, outcome: 'ok' },
    ]);
    expect(lines.at(-1)?.msg).toBe('stopped');
  });

  it('refuses to start on a bad setting, naming the variable, without a stack trace', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--policy', defaultPolicyDir], {
      env: { ...process.env, SWITCHYARD_PORT: 'eighty', NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err.trim()).toBe(
      'switchyard serve: invalid `SWITCHYARD_PORT`: expected an integer from 0 to 65535, got `eighty`',
    );
  });
});
