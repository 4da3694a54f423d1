import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotaWindowBounds } from '@switchyard/engine';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../stores/api-key.ts';
import { PostgresKeyStore } from '../stores/postgres/postgres-key-store.ts';
import { PostgresLedgerStore } from '../stores/postgres/postgres-ledger-store.ts';
import {
  dropPostgresTestSchema,
  type PostgresTestSchema,
  postgresTestSchema,
  testPostgresUrl,
} from '../stores/postgres/postgres-test-schema.ts';
import { RedisQuotaStore } from '../stores/redis/redis-quota-store.ts';
import {
  cleanupRedisTestNamespace,
  type RedisTestNamespace,
  redisTestNamespace,
  testRedisUrl,
} from '../stores/redis/redis-test-namespace.ts';

const policy = `
apiVersion: switchyard/v1
name: replicas
providers:
  sim: { type: simulator, profile: { ttftMs: 15, tpotMs: 1 } }
models:
  fast:
    maxOutputTokens: 20
    deployments: [{ provider: sim, model: sim-small, price: { inPerMTok: 1000, outPerMTok: 1000 } }]
tenants:
  default: {}
  capped:
    quotas: [{ per: tenant, window: day, usd: 0.3 }]
  limited:
    rateLimits: [{ per: tenant, rpm: 1, burst: 30 }]
`;

const bin = new URL('../../bin/switchyard.js', import.meta.url).pathname;
const dirs: string[] = [];
const children: ChildProcess[] = [];
let db: PostgresTestSchema;
let ns: RedisTestNamespace;

/** `switchyard serve` as a child process sharing the test's Redis prefix and Postgres schema. */
async function serve(policyDir: string): Promise<{ url: string; child: ChildProcess }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sy-replica-'));
  dirs.push(stateDir);
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--policy', policyDir, '--port', '0', '--state-dir', stateDir],
    {
      env: {
        ...process.env,
        SWITCHYARD_LOG_LEVEL: 'warn',
        NODE_NO_WARNINGS: '1',
        SWITCHYARD_REDIS_URL: testRedisUrl,
        SWITCHYARD_REDIS_PREFIX: ns.prefix,
        SWITCHYARD_DATABASE_URL: testPostgresUrl,
        SWITCHYARD_DATABASE_SCHEMA: db.schema,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 20_000;
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`replica did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: /listening on (http:\/\/\S+)/.exec(out)![1]!, child };
}

let replicas: { url: string; child: ChildProcess }[];
const keys: Record<string, string> = {};

beforeAll(async () => {
  [db, ns] = await Promise.all([postgresTestSchema(), redisTestNamespace()]);
  const store = new PostgresKeyStore(db.pool);
  for (const tenant of ['capped', 'limited'])
    keys[tenant] = (await issueApiKey(store, { tenant, name: tenant }, Date.now())).key;
  const policyDir = mkdtempSync(join(tmpdir(), 'sy-replicas-policy-'));
  dirs.push(policyDir);
  writeFileSync(join(policyDir, 'policy.yaml'), policy);
  replicas = await Promise.all([serve(policyDir), serve(policyDir)]);
}, 40_000);

afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }),
  );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await cleanupRedisTestNamespace();
  await dropPostgresTestSchema();
});

/** Sends `total` requests for `tenant`, `concurrency` at a time, alternating between the replicas. */
async function drive(tenant: string, total: number, concurrency: number): Promise<(number | string)[]> {
  const clients = replicas.map(
    (r) => new OpenAI({ baseURL: `${r.url}/v1`, apiKey: keys[tenant]!, maxRetries: 0, timeout: 10_000 }),
  );
  const results: (number | string)[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        results[i] = await clients[i % clients.length]!.chat.completions.create({
          model: 'fast',
          max_tokens: 20,
          messages: [{ role: 'user', content: `hello ${i}` }],
        }).then(
          () => 200,
          (e: unknown) => (e as InstanceType<typeof OpenAI.APIError>).code ?? String(e),
        );
      }
    }),
  );
  return results;
}

describe('two gateway replicas sharing Redis and Postgres', () => {
  it('hold one USD quota globally: spend never passes the cap by more than the reservations in flight', async () => {
    const [start] = quotaWindowBounds('day', Date.now());
    const counter = `q|capped|tenant-day-usd|capped|${start}`;
    const quotas = new RedisQuotaStore(ns.redis, { prefix: ns.prefix });
    let worst = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const u = (await quotas.usage([counter], Date.now()))[counter];
        if (u) worst = Math.max(worst, u.used + u.reserved);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const results = await drive('capped', 160, 16);
    sampling = false;
    await sampler;
    const served = results.filter((r) => r === 200).length;
    expect(served).toBeGreaterThan(5);
    expect(results.filter((r) => r !== 200).every((r) => r === 'quota_exceeded')).toBe(true);
    expect(results.filter((r) => r === 'quota_exceeded').length).toBeGreaterThan(0);
    // Reservations are upper bounds taken atomically across both replicas: they never pass the cap…
    expect(worst).toBeLessThanOrEqual(0.3 + 1e-9);
    // …and once everything settled, nothing is held and the spend is what the answers cost.
    const settled = (await quotas.usage([counter], Date.now()))[counter]!;
    expect(settled.reserved).toBe(0);
    expect(settled.used).toBeLessThanOrEqual(0.3 + 1e-9);
    // Both replicas wrote their rows to the one Postgres ledger, and they add up to the counter.
    const ledger = new PostgresLedgerStore(db.pool);
    const query = {
      groupBy: ['tenant' as const],
      fromMs: start,
      toMs: Date.now() + 1000,
      where: { tenant: 'capped' },
    };
    await expect
      .poll(async () => (await ledger.query(query))[0]?.requests, { timeout: 10_000, interval: 200 })
      .toBe(160);
    const [total] = await ledger.query(query);
    expect(total!.denied).toBe(160 - served);
    expect(total!.costUsd).toBeCloseTo(settled.used, 9);
  }, 30_000);

  it('apply one rate limit globally: both replicas together admit one bucket, not one each', async () => {
    const results = await drive('limited', 90, 12);
    const admitted = results.filter((r) => r === 200).length;
    // A bucket of 30 refilling at one a minute: 30 admitted in all (60 if each replica had its own).
    expect(admitted).toBeGreaterThanOrEqual(30);
    expect(admitted).toBeLessThanOrEqual(31);
    expect(results.filter((r) => r !== 200).every((r) => r === 'rate_limit_exceeded')).toBe(true);
  }, 30_000);
});
