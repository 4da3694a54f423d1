import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { sendHttpError, toHttpError } from '../errors.ts';
import { adminAuthHook } from '../http/admin-auth.ts';
import type { GatewayContext } from '../http/gateway-context.ts';
import { adminDecisionsRoute } from './admin-decisions.route.ts';
import { adminHealthRoute } from './admin-health.route.ts';
import { DecisionRing } from './decision-ring.ts';
import { DeploymentHealth } from './deployment-health.ts';

const t0 = Date.UTC(2025, 0, 1);

describe('deployment health windows', () => {
  it('reports success ratio and latency percentiles over the last minute and five minutes', () => {
    const health = new DeploymentHealth();
    for (let i = 0; i < 90; i++) health.recordAttempt({ deploymentId: 'fast/a', outcome: 'ok', ms: 100 }, t0);
    for (let i = 0; i < 10; i++)
      health.recordAttempt({ deploymentId: 'fast/a', outcome: 'ok', ms: 1_000 }, t0);
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'failed', ms: 5, status: 503 }, t0 + 1_000);
    const windows = health.windowsOf('fast/a', t0 + 2_000);
    expect(windows['1m']).toMatchObject({ requests: 101, failures: 1 });
    expect(windows['1m']!.successRatio).toBeCloseTo(100 / 101, 10);
    expect(windows['1m']!.latencyMs.p50! / 100).toBeCloseTo(1, 1);
    expect(windows['1m']!.latencyMs.p95! / 1_000).toBeCloseTo(1, 1);
  });

  it('slides: old slices leave the one-minute window first, then the five-minute one', () => {
    const health = new DeploymentHealth();
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'failed', ms: 5 }, t0);
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'ok', ms: 50 }, t0 + 120_000);
    const later = health.windowsOf('fast/a', t0 + 125_000);
    expect(later['1m']).toMatchObject({ requests: 1, failures: 0, successRatio: 1 });
    expect(later['5m']).toMatchObject({ requests: 2, failures: 1, successRatio: 0.5 });
    const muchLater = health.windowsOf('fast/a', t0 + 10 * 60_000);
    expect(muchLater['5m']).toEqual({
      requests: 0,
      failures: 0,
      successRatio: null,
      latencyMs: { p50: null, p95: null },
    });
  });

  it('does not count cancelled attempts, and counts escalated answers as successes', () => {
    const health = new DeploymentHealth();
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'cancelled', ms: 5 }, t0);
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'escalated', ms: 5 }, t0);
    expect(health.windowsOf('fast/a', t0)['1m']).toMatchObject({ requests: 1, successRatio: 1 });
  });

  it('keeps the last error with its message scrubbed of keys', async () => {
    const health = new DeploymentHealth();
    health.recordAttempt(
      { deploymentId: 'fast/a', outcome: 'failed', ms: 5, status: 502, code: 'upstream_auth_failed' },
      t0 + 5,
      'openai answered 401: Incorrect API key provided: sk-proj-abcdefghijklmnop1234',
    );
    const snapshot = await health.snapshot(t0 + 10);
    expect(snapshot.deployments[0]!.lastError).toEqual({
      status: 502,
      code: 'upstream_auth_failed',
      message: 'openai answered 401: Incorrect API key provided: [REDACTED]',
      at: new Date(t0 + 5).toISOString(),
    });
  });

  it('lists known deployments without traffic, with breaker states from the store', async () => {
    const health = new DeploymentHealth({
      deployments: () => ['fast/a', 'fast/b'],
      breakers: async (ids) => Object.fromEntries(ids.map((id) => [id, id === 'fast/b' ? 'open' : 'closed'])),
    });
    health.recordAttempt({ deploymentId: 'fast/c', outcome: 'ok', ms: 5 }, t0);
    const snapshot = await health.snapshot(t0);
    expect(snapshot.deployments.map((d) => [d.id, d.breaker])).toEqual([
      ['fast/a', 'closed'],
      ['fast/b', 'open'],
      ['fast/c', 'closed'],
    ]);
    const failing = new DeploymentHealth({
      deployments: () => ['fast/a'],
      breakers: () => Promise.reject(new Error('down')),
    });
    expect((await failing.snapshot(t0)).deployments[0]!.breaker).toBe('unknown');
  });
});

describe('admin health and decisions routes', () => {
  let app: FastifyInstance;
  const admin = { authorization: 'Bearer test-admin-token-0123456789' };
  afterEach(async () => {
    await app?.close();
  });

  /** An app with both routes behind the gateway's real admin guard and error rendering. */
  async function start(ring: DecisionRing, health: DeploymentHealth) {
    app = Fastify();
    app.setErrorHandler((err, request, reply) =>
      sendHttpError(reply, toHttpError(err, { bodyLimit: 1_000, requestId: String(request.id) })),
    );
    const ctx = { config: { adminToken: 'test-admin-token-0123456789' } } as unknown as GatewayContext;
    const auth = adminAuthHook(ctx);
    await app.register(adminHealthRoute, { health, clock: { now: () => t0 }, auth });
    await app.register(adminDecisionsRoute, { ring, auth });
  }

  const record = (requestId: string, tenant = 'search') => ({
    requestId,
    tenant,
    at: '',
    reasons: ['route:auto'],
    attempts: [],
    status: 200,
    outcome: 'ok' as const,
    latencyMs: 1,
  });

  it('refuses both without the admin token', async () => {
    await start(new DecisionRing(), new DeploymentHealth());
    for (const url of ['/admin/v1/health', '/admin/v1/decisions?requestId=x'])
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
  });

  it('answers the health snapshot', async () => {
    const health = new DeploymentHealth();
    health.recordAttempt({ deploymentId: 'fast/a', outcome: 'ok', ms: 40 }, t0);
    await start(new DecisionRing(), health);
    const res = await app.inject({ method: 'GET', url: '/admin/v1/health', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ at: new Date(t0).toISOString(), deployments: [{ id: 'fast/a' }] });
  });

  it('answers a request’s decision by id, 404 in the OpenAI shape once it is gone, and the latest by tenant', async () => {
    const ring = new DecisionRing(5);
    for (const [id, tenant] of [
      ['r1', 'search'],
      ['r2', 'other'],
      ['r3', 'search'],
    ] as const)
      ring.add(record(id, tenant));
    await start(ring, new DeploymentHealth());
    const get = async (query: string) =>
      (await app.inject({ method: 'GET', url: `/admin/v1/decisions${query}`, headers: admin })).json();
    expect(await get('?requestId=r2')).toEqual({ object: 'list', data: [record('r2', 'other')] });
    const gone = await app.inject({
      method: 'GET',
      url: '/admin/v1/decisions?requestId=nope',
      headers: admin,
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({
      error: {
        message: 'no decision of request `nope` is held; the last 5 finished requests are kept',
        type: 'invalid_request_error',
        param: null,
        code: 'decision_not_found',
      },
    });
    expect((await get('?tenant=search&limit=1')).data.map((r: { requestId: string }) => r.requestId)).toEqual(
      ['r3'],
    );
    const bad = await app.inject({ method: 'GET', url: '/admin/v1/decisions?limit=0', headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.param).toBe('limit');
  });
});
