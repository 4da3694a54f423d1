import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { type RunningServer, startServer } from '../server.ts';

const root = join(import.meta.dirname, '../../..');
const adminToken = 'test-admin-token-0123456789';
let dir: string;
let server: RunningServer;

/** The default policy with an instant simulator, and a rollout sticky by end user in two steps. */
function policyText(extra: string): string {
  return readFileSync(join(root, 'policies/default/policy.yaml'), 'utf8')
    .replace(
      'profile: { ttftMs: 30, tpotMs: 3, jitter: 0.1, seed: 7 }',
      'profile: { ttftMs: 0, tpotMs: 0, jitter: 0, seed: 7 }',
    )
    .replace(
      /rollout:\n(.*\n){4}/,
      `rollout:\n  steps: [5, 100]\n  stickyBy: user\n  holdMinutes: 60\n${extra}`,
    );
}

async function admin(
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${adminToken}`,
      'content-type': 'application/json',
      'x-switchyard-actor': 'test',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function servedVersions(users: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < users; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, users - i) }, (_, j) =>
        fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${server.devKey}`,
            'content-type': 'application/json',
            'x-switchyard-user': `user-${i + j}`,
          },
          body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
        }).then(async (r) => {
          await r.arrayBuffer();
          return r.headers.get('x-switchyard-policy') ?? `status ${r.status}`;
        }),
      ),
    );
    for (const v of batch) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sy-lifecycle-'));
  cpSync(join(root, 'policies/default/policy.yaml'), join(dir, 'policy.yaml'));
  writeFileSync(join(dir, 'policy.yaml'), policyText(''));
  const config = loadConfig(
    { policy: dir, port: '0', host: '127.0.0.1', stateDir: join(dir, 'state') },
    { SWITCHYARD_ADMIN_TOKEN: adminToken },
  );
  server = await startServer(config, {
    out: { write: () => true } as unknown as NodeJS.WritableStream,
    logger: pino({ level: 'silent' }),
    handleSignals: false,
  });
});

afterAll(async () => {
  await server?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('serving a rollout', () => {
  it('publishes the folder policy at start as the stable version', async () => {
    const { json } = await admin('/admin/v1/policy/versions');
    const versions = json.data as { version: string; stable: boolean }[];
    expect(versions).toHaveLength(1);
    expect(server.lifecycle?.routes).toBe(false);
  });

  it('sends the canary share of distinct callers to the candidate, then all back to stable on rollback', async () => {
    const candidateText = policyText('').replace(
      'description: cheap first, escalate when the cheap answer fails',
      'description: cheap first (candidate)',
    );
    const published = await admin('/admin/v1/policy/versions', {
      files: [{ path: 'policy.yaml', text: candidateText }],
      message: 'candidate',
    });
    expect(published.status).toBe(201);
    const candidate = (published.json.version ?? published.json.id) as string;
    const refused = await admin('/admin/v1/rollouts', { version: candidate, reason: 'no verdict yet' });
    expect(refused.status).toBe(409);
    const started = await admin('/admin/v1/rollouts', {
      version: candidate,
      force: true,
      reason: 'test canary',
    });
    expect(started.status).toBeLessThan(300);
    await server.lifecycle!.router.refresh();
    expect(server.lifecycle!.routes).toBe(true);

    const users = 600;
    const counts = await servedVersions(users);
    const candidateServed = [...counts]
      .filter(([v]) => v.endsWith(`@${candidate}`))
      .reduce((s, [, n]) => s + n, 0);
    // 5 % of 600 distinct sticky users: 30 expected, standard deviation about 5.3.
    expect(candidateServed / users).toBeGreaterThan(0.02);
    expect(candidateServed / users).toBeLessThan(0.09);
    // Sticky: a caller asking again gets the same version.
    expect(await servedVersions(users)).toEqual(counts);

    const rolledBack = await admin('/admin/v1/rollouts/current/rollback', { reason: 'test' });
    expect(rolledBack.status).toBeLessThan(300);
    await server.lifecycle!.router.refresh();
    const after = await servedVersions(200);
    expect([...after.keys()].every((v) => !v.endsWith(`@${candidate}`))).toBe(true);
    const audit = await admin('/admin/v1/policy/audit');
    const actions = (audit.json.data as { action: string }[]).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['version.published', 'rollout.started', 'rollout.rolled_back']),
    );
  });

  it('in a shadow step serves everyone from stable while the candidate decides every request', async () => {
    // The candidate sends code questions to the cheap tier: a re-route the shadow step should see.
    const shadowText = policyText('  shadow: true\n').replace(
      'target: strong\n  - id: long-context',
      'target: fast\n  - id: long-context',
    );
    const published = await admin('/admin/v1/policy/versions', {
      files: [{ path: 'policy.yaml', text: shadowText }],
    });
    const candidate = (published.json.version ?? published.json.id) as string;
    const started = await admin('/admin/v1/rollouts', {
      version: candidate,
      force: true,
      reason: 'shadow test',
    });
    expect(started.status, JSON.stringify(started.json)).toBeLessThan(300);
    await server.lifecycle!.router.refresh();
    const state = server.lifecycle!.router.state;
    expect(state.shadow).toBe(true);
    const counts = await servedVersions(50);
    expect([...counts.keys()].every((v) => !v.endsWith(`@${candidate}`))).toBe(true);
    await server.lifecycle!.router.refresh();
    const stats = await server.lifecycle!.store.shadowStats(state.rolloutId!, state.stepIndex ?? 0);
    expect(stats.requests).toBe(50);
    await admin('/admin/v1/rollouts/current/rollback', { reason: 'done' });
  });
});
