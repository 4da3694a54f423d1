import {
  type Charge,
  compilePolicy,
  type Decision,
  decide,
  factsWithDefaults,
  type StateSnapshot,
  seededEnv,
} from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { MemoryLimitStore } from './memory/memory-limit-store.ts';
import { MemoryQuotaStore } from './memory/memory-quota-store.ts';
import { quotaUsedSnapshot } from './quota-store.ts';

const text = `apiVersion: switchyard/v1
name: agreement
providers:
  sim: { type: simulator }
models:
  fast:
    deployments: [{ id: a, provider: sim, model: sim-small, price: { inPerMTok: 1, outPerMTok: 2 } }]
tenants:
  default:
    quotas:
      - { id: req-min, per: key, window: minute, requests: 12 }
    rateLimits:
      - { id: rps, per: key, rps: 2, burst: 4 }
      - { id: tpm, per: tenant, tpm: 3000 }
routes:
  - id: auto
    match: { model: auto }
    target: fast
`;

describe('engine and stores', () => {
  it('agree on every admission: a snapshot the stores build makes the engine refuse exactly what the stores refuse', async () => {
    const compiled = compilePolicy([{ path: 'agreement.yaml', text }]);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const facts = factsWithDefaults({
      keyId: 'k1',
      tenant: 'default',
      model: 'auto',
      inputTokens: 90,
      maxTokens: 60,
    });
    const limits = new MemoryLimitStore();
    const quotas = new MemoryQuotaStore();
    const minute = Date.UTC(2026, 0, 1, 12, 0);
    let limitKeys: string[] = [];
    let chargeKeys: string[] = [];
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const nowMs = minute + 1_000 + i * 150;
      const snapshot: StateSnapshot = {
        buckets: await limits.peek(limitKeys),
        quotaUsed: quotaUsedSnapshot(await quotas.usage(chargeKeys, nowMs)),
      };
      const decision: Decision = decide(compiled.policy, facts, snapshot, seededEnv(nowMs, 1));
      if (decision.kind === 'deny') {
        // The stores, asked directly, refuse too, and name the same wait.
        const taken = await limits.take(
          decision.limit && 'capacity' in decision.limit ? [decision.limit] : [],
          nowMs,
        );
        if (decision.code === 'rate_limit_exceeded') {
          expect(taken).toMatchObject({ ok: false, retryAfterMs: decision.retryAfterMs });
        } else {
          expect(decision.code).toBe('quota_exceeded');
          expect((await quotas.reserve([decision.limit as Charge], `probe_${i}`, 60_000, nowMs)).ok).toBe(
            false,
          );
        }
        outcomes.push(decision.code);
        continue;
      }
      limitKeys = decision.limits.map((l) => l.key);
      chargeKeys = decision.charges.map((c) => c.key);
      const taken = await limits.take(decision.limits, nowMs);
      const reserved = await quotas.reserve(decision.charges, `req_${i}`, 60_000, nowMs);
      expect([taken.ok, reserved.ok]).toEqual([true, true]);
      // The call used fewer tokens than reserved: give the difference back to the tpm bucket.
      const tpm = decision.limits.find((l) => l.unit === 'tokens')!;
      await limits.refund(tpm, tpm.cost - 100, nowMs);
      await quotas.settle(`req_${i}`, {}, nowMs);
      outcomes.push('ok');
    }
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(12);
    expect(outcomes).toContain('rate_limit_exceeded');
    expect(outcomes.at(-1)).toBe('quota_exceeded');
  });
});
