import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { GateVerdict } from '@switchyard/engine';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config.ts';
import { sendHttpError, toHttpError } from '../errors.ts';
import { RolloutController } from '../policy-runtime/rollout-controller.ts';
import { versionTestPolicy } from '../policy-runtime/version-test-policy.ts';
import { MemoryLedgerStore } from '../stores/memory/memory-ledger-store.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';
import { adminAuthHook } from './admin-auth.ts';
import { adminRolloutRoute } from './admin-rollout.route.ts';
import { adminVersionsRoute } from './admin-versions.route.ts';
import type { GatewayContext } from './gateway-context.ts';

const token = 'admin-token-0123456789';
let db: DatabaseSync;
let app: FastifyInstance;
let ledger: MemoryLedgerStore;
let now: number;

const headers = { authorization: `Bearer ${token}`, 'x-switchyard-actor': 'alice' };

async function publish(price: number): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/admin/v1/policy/versions',
    headers,
    payload: { files: versionTestPolicy({ price }), message: `price ${price}` },
  });
  expect([200, 201]).toContain(res.statusCode);
  return res.json().version;
}

const verdict = (pass: boolean): GateVerdict => ({
  pass,
  candidate: 'c',
  baseline: 'b',
  thresholds: { minPassRate: 0.95, maxPassRateDrop: 0.02, maxCostRatio: 1.1, maxP95LatencyRatio: 1.25 },
  suites: [],
  summary: pass ? 'passed 1 suite(s)' : 'failed: regression: pass rate 0.5 < 0.95',
});

beforeEach(async () => {
  now = Date.UTC(2026, 0, 1);
  const clock = { now: () => now };
  db = openStateDatabase(':memory:');
  const versions = new SqlitePolicyVersionStore(db);
  ledger = new MemoryLedgerStore();
  const controller = new RolloutController({ store: versions, ledger, clock });
  const authorize = adminAuthHook({ config: { adminToken: token } as GatewayConfig } as GatewayContext);
  app = Fastify();
  app.setErrorHandler((err, request, reply) =>
    sendHttpError(reply, toHttpError(err, { bodyLimit: 1 << 20, requestId: request.id })),
  );
  await app.register(adminVersionsRoute, { versions, clock, authorize });
  await app.register(adminRolloutRoute, {
    versions,
    clock,
    authorize,
    controller,
    ledger,
    policyName: 'shop',
  });
});
afterEach(async () => {
  await app.close();
  db.close();
});

describe('admin versions API', () => {
  it('needs the admin token', async () => {
    const res = await app.inject({ method: 'GET', url: '/admin/v1/policy/versions' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('invalid_admin_token');
  });

  it('publishes once per content, lists with the stable marker, and shows the files', async () => {
    const v1 = await publish(1);
    const again = await app.inject({
      method: 'POST',
      url: '/admin/v1/policy/versions',
      headers,
      payload: { files: versionTestPolicy({ price: 1 }) },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: v1, created: false, message: 'price 1' });
    await publish(2);
    const list = await app.inject({ method: 'GET', url: '/admin/v1/policy/versions', headers });
    expect(list.json().data.map((v: { stable: boolean }) => v.stable)).toEqual([false, true]);
    const shown = await app.inject({ method: 'GET', url: `/admin/v1/policy/versions/${v1}`, headers });
    expect(shown.json()).toMatchObject({ id: `shop@${v1}`, files: [{ path: 'policy.yaml' }] });
    const missing = await app.inject({ method: 'GET', url: '/admin/v1/policy/versions/abcdef12', headers });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('policy_version_not_found');
  });

  it('refuses a policy that does not compile, with every error located', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/admin/v1/policy/versions',
      headers,
      payload: { files: [{ path: 'policy.yaml', text: 'apiVersion: switchyard/v1\nname: [x\n' }] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe('policy_not_publishable');
    expect(res.json().errors[0]).toMatchObject({ code: 'SY_POLICY_YAML_SYNTAX', file: 'policy.yaml' });
  });

  it('attaches a verdict once, and shows it in the audit log with the actor', async () => {
    const v1 = await publish(1);
    const url = `/admin/v1/policy/versions/${v1}/verdict`;
    expect(
      (await app.inject({ method: 'POST', url, headers, payload: { verdict: verdict(true) } })).statusCode,
    ).toBe(200);
    const second = await app.inject({ method: 'POST', url, headers, payload: { verdict: verdict(false) } });
    expect(second.statusCode).toBe(409);
    const audit = await app.inject({ method: 'GET', url: `/admin/v1/policy/audit?subject=${v1}`, headers });
    expect(audit.json().data.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['version.published', 'alice'],
      ['stable.set', 'alice'],
      ['version.verdict', 'alice'],
    ]);
  });
});

describe('admin rollout API', () => {
  it('refuses to start a version without a passing verdict, unless forced', async () => {
    await publish(1);
    const v2 = await publish(2);
    const refused = await app.inject({
      method: 'POST',
      url: '/admin/v1/rollouts',
      headers,
      payload: { version: v2 },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'rollout_refused',
      message: expect.stringContaining('no gate verdict'),
    });
    const forced = await app.inject({
      method: 'POST',
      url: '/admin/v1/rollouts',
      headers,
      payload: { version: v2, force: true, reason: 'incident 42' },
    });
    expect(forced.statusCode).toBe(201);
    expect(forced.json()).toMatchObject({
      status: 'running',
      percent: 5,
      forced: true,
      reason: 'incident 42',
    });
  });

  it('shows the current rollout with its analysis, then pauses, resumes and rolls it back', async () => {
    await publish(1);
    const v2 = await publish(2);
    await app.inject({
      method: 'POST',
      url: `/admin/v1/policy/versions/${v2}/verdict`,
      headers,
      payload: { verdict: verdict(true) },
    });
    expect(
      (await app.inject({ method: 'POST', url: '/admin/v1/rollouts', headers, payload: { version: v2 } }))
        .statusCode,
    ).toBe(201);
    now += 60_000;
    const current = await app.inject({ method: 'GET', url: '/admin/v1/rollouts/current', headers });
    expect(current.json()).toMatchObject({
      candidateVersion: v2,
      step: '5 %',
      analysis: { waitingFor: ['hold 540 s more', '20 more candidate request(s)'] },
    });
    for (const action of ['pause', 'resume', 'rollback'])
      expect(
        (
          await app.inject({
            method: 'POST',
            url: `/admin/v1/rollouts/current/${action}`,
            headers,
            payload: { reason: `${action} now` },
          })
        ).statusCode,
      ).toBe(200);
    const gone = await app.inject({ method: 'GET', url: '/admin/v1/rollouts/current', headers });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('rollout_not_found');
    const list = await app.inject({ method: 'GET', url: '/admin/v1/rollouts', headers });
    expect(list.json().data[0]).toMatchObject({ status: 'rolled_back', reason: 'rollback now' });
  });

  it('reports an experiment per arm from the ledger', async () => {
    const row = (arm: string, outcome: 'ok' | 'error', costUsd: number, latencyMs: number) => ({
      time: now - 1000,
      requestId: `req_${randomUUID()}`,
      tenant: 'default',
      keyId: 'k',
      policyVersion: 'shop@x',
      experimentArm: arm,
      inputTokens: 10,
      outputTokens: 5,
      cachedTokens: 0,
      costUsd,
      estimated: false,
      latencyMs,
      status: outcome === 'ok' ? 200 : 502,
      outcome,
      retries: 0,
      escalations: 0,
      cacheStatus: 'miss' as const,
    });
    await ledger.append([
      row('ab/control', 'ok', 0.001, 100),
      row('ab/control', 'error', 0, 300),
      row('ab/treat', 'ok', 0.004, 50),
      row('other/x', 'ok', 1, 1),
    ]);
    const res = await app.inject({ method: 'GET', url: '/admin/v1/experiments/ab', headers });
    expect(res.json().arms).toEqual([
      expect.objectContaining({ arm: 'control', requests: 2, errors: 1, errorRate: 0.5, costUsd: 0.001 }),
      expect.objectContaining({
        arm: 'treat',
        requests: 1,
        errors: 0,
        costPerRequestUsd: 0.004,
        latencyP95Ms: 50,
      }),
    ]);
  });
});
