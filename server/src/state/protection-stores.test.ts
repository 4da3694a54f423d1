import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisConnection } from '../stores/redis/redis-connection.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

const policy = `
apiVersion: switchyard/v1
name: outage
providers:
  sim: { type: simulator, profile: { ttftMs: 1, tpotMs: 1 } }
models:
  fast: { deployments: [{ provider: sim, model: sim-small, price: { inPerMTok: 1, outPerMTok: 1 } }] }
tenants:
  default: {}
  open:
    onStoreFailure: open
    rateLimits: [{ per: key, rpm: 3 }]
    quotas: [{ per: tenant, window: day, requests: 1000 }]
  closed:
    onStoreFailure: closed
    quotas: [{ per: tenant, window: day, requests: 1000 }]
`;

/** A free loopback port, picked by the OS. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A redis-server of this test only, on `port`; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!out.includes('Ready to accept connections')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis-server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** Stops the redis-server this test started, by its PID, and waits for it to exit. */
async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

let port: number;
let server: ChildProcess;
let redis: Redis;
let gw: TestGateway;
const prefix = `sytest:${randomBytes(6).toString('hex')}:`;

beforeAll(async () => {
  port = await freePort();
  server = await startRedis(port);
  redis = await openRedisConnection(`redis://127.0.0.1:${port}`, {
    connectionName: 'switchyard-outage-test',
    commandTimeoutMs: 500,
    maxReconnectDelayMs: 100,
  });
  gw = await startTestGateway({ policyText: policy, redis, redisPrefix: prefix, retrySharedAfterMs: 100 });
});
afterAll(async () => {
  await gw?.close();
  redis?.disconnect();
  if (server) await stopRedis(server);
});

async function outcome(client: OpenAI): Promise<number | string> {
  return client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }).then(
    () => 200,
    (e: unknown) => {
      const err = e as InstanceType<typeof OpenAI.APIError>;
      return `${err.status} ${err.code} retry-after=${err.headers?.get('retry-after')}`;
    },
  );
}

describe('when the shared Redis goes away', () => {
  it('serves fail-open tenants with local limits, refuses fail-closed ones with 503, and recovers without a restart', async () => {
    const open = new OpenAI({
      baseURL: gw.baseURL,
      apiKey: (await gw.issueKey({ tenant: 'open' })).key,
      maxRetries: 0,
    });
    const closed = new OpenAI({
      baseURL: gw.baseURL,
      apiKey: (await gw.issueKey({ tenant: 'closed' })).key,
      maxRetries: 0,
    });
    expect([await outcome(open), await outcome(closed)]).toEqual([200, 200]);
    // The limits and quotas live in Redis while it is up.
    const probe = await openRedisConnection(`redis://127.0.0.1:${port}`);
    expect((await probe.keys(`${prefix}q|closed|*`)).length).toBeGreaterThan(0);
    probe.disconnect();

    await stopRedis(server);
    // Fail-open: served from this replica's own buckets (a fresh rpm 3 bucket: three, then 429).
    expect([await outcome(open), await outcome(open), await outcome(open)]).toEqual([200, 200, 200]);
    expect(await outcome(open)).toMatch(/^429 rate_limit_exceeded/);
    // Fail-closed: refused while the store is down, with a hint to come back shortly.
    expect(await outcome(closed)).toBe('503 limit_store_unavailable retry-after=1');
    expect(gw.state.stats.storeFailOpen).toBeGreaterThanOrEqual(4);
    expect(gw.state.stats.storeFailClosed).toBeGreaterThanOrEqual(1);
    expect(gw.logs.filter((l) => String(l.msg).startsWith('shared limit store failed'))).toHaveLength(1);
    const denied = gw.logs.filter((l) => l.msg === 'request' && l.status === 503);
    expect(denied.at(-1)).toMatchObject({ errorCode: 'limit_store_unavailable' });

    server = await startRedis(port);
    await expect.poll(() => redis.status, { timeout: 5000 }).toBe('ready');
    await expect.poll(() => outcome(closed), { timeout: 5000, interval: 50 }).toBe(200);
    expect(gw.logs.some((l) => l.msg === 'shared limit store recovered')).toBe(true);
    // Back on Redis: the quota counter lives there again (the restarted Redis started empty).
    const again = await openRedisConnection(`redis://127.0.0.1:${port}`);
    expect((await again.keys(`${prefix}q|closed|*`)).length).toBeGreaterThan(0);
    again.disconnect();
    const rows = await gw.ledgerRows();
    expect(rows.filter((r) => r.outcome === 'denied' && r.status === 503).length).toBeGreaterThanOrEqual(1);
  });
});
