import { randomUUID } from 'node:crypto';
import type { CompiledPolicy } from '@switchyard/engine';
import type { AdapterFactory, LedgerRow, LedgerStore, VersionPick, VersionRouter } from '@switchyard/server';
import { type PolicyGateway, startPolicyGateway } from '../policy-gateway.ts';

/** One request as the harness served it. */
export interface HarnessResponse {
  arm: VersionPick['arm'];
  /** `x-switchyard-policy` of the answer: the version that really served. */
  servedPolicy: string | undefined;
  status: number;
  row: LedgerRow;
}

/** Options of `VersionRoutingHarness`. */
export interface VersionRoutingHarnessOptions {
  router: VersionRouter;
  ledger: LedgerStore;
  /** The time ledger rows carry (the rollout controller's clock). */
  now: () => number;
  /** Provider adapters of the gateway started for a version (fault injection). */
  createAdapter?: (version: string) => AdapterFactory | undefined;
}

const adminToken = 'harness-admin-token-0123456789';

function costOf(
  policy: CompiledPolicy,
  deployment: string | undefined,
  usage: { prompt_tokens: number; completion_tokens: number } | undefined,
): number {
  if (!deployment || !usage) return 0;
  const d = policy.models.get(deployment.split('/')[0] ?? '')?.deployments.find((x) => x.id === deployment);
  return d
    ? (usage.prompt_tokens * d.price.inPerMTok + usage.completion_tokens * d.price.outPerMTok) / 1e6
    : 0;
}

/**
 * Stands in for the request path until it serves versions itself: for each request it asks the
 * `VersionRouter` which version serves the caller (`pick`), sends the request to a gateway started
 * for that version, and writes the ledger row the request path will write (`policyVersion` =
 * the picked policy's `name@version`, with outcome, latency, cost and escalations). With the
 * router in the request path, this becomes one HTTP call to the real server.
 */
export class VersionRoutingHarness {
  readonly #options: VersionRoutingHarnessOptions;
  readonly #gateways = new Map<string, Promise<PolicyGateway>>();
  readonly #keys = new Map<string, Promise<string>>();

  constructor(options: VersionRoutingHarnessOptions) {
    this.#options = options;
  }

  #gateway(policy: CompiledPolicy): Promise<PolicyGateway> {
    let g = this.#gateways.get(policy.version);
    if (!g) {
      g = startPolicyGateway(policy.sources, {
        createAdapter: this.#options.createAdapter?.(policy.version),
        adminToken,
      });
      this.#gateways.set(policy.version, g);
    }
    return g;
  }

  /**
   * The gateway's API key for a caller: each caller gets its own (via the admin API), as distinct
   * clients would, so per-key rate limits apply per caller and not to the harness as a whole.
   */
  #apiKey(gateway: PolicyGateway, keyId: string): Promise<string> {
    const id = `${gateway.url}|${keyId}`;
    let key = this.#keys.get(id);
    if (!key) {
      key = fetch(`${gateway.url}/admin/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant: 'default', name: keyId }),
      }).then(async (res) => {
        if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { key: string }).key;
      });
      this.#keys.set(id, key);
    }
    return key;
  }

  /** Serves one chat request from caller `keyId` of tenant `default`. */
  async request(keyId: string, prompt = 'What is 12 * 34?'): Promise<HarnessResponse> {
    const pick = this.#options.router.pick({ tenant: 'default', keyId });
    if (!pick) throw new Error('the router serves no version yet');
    const gateway = await this.#gateway(pick.policy);
    const apiKey = await this.#apiKey(gateway, keyId);
    const time = this.#options.now();
    const started = performance.now();
    const res = await fetch(`${gateway.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: prompt }] }),
    });
    const body = (await res.json()) as { usage?: { prompt_tokens: number; completion_tokens: number } };
    const latencyMs = performance.now() - started;
    const deployment = res.headers.get('x-switchyard-model') ?? undefined;
    const attempts = res.headers.get('x-switchyard-attempts') ?? '';
    const row: LedgerRow = {
      time,
      requestId: `req_${randomUUID()}`,
      tenant: 'default',
      keyId,
      routeId: res.headers.get('x-switchyard-route') ?? undefined,
      logicalModel: deployment?.split('/')[0],
      deployment,
      policyVersion: pick.policy.id,
      inputTokens: body.usage?.prompt_tokens ?? 0,
      outputTokens: body.usage?.completion_tokens ?? 0,
      cachedTokens: 0,
      costUsd: costOf(pick.policy, deployment, body.usage),
      estimated: false,
      latencyMs,
      status: res.status,
      outcome: res.ok ? 'ok' : 'error',
      retries: 0,
      escalations: attempts.split(',').filter((a) => a.includes(';escalated;')).length,
      cacheStatus: 'bypass',
    };
    await this.#options.ledger.append([row]);
    return {
      arm: pick.arm,
      servedPolicy: res.headers.get('x-switchyard-policy') ?? undefined,
      status: res.status,
      row,
    };
  }

  /** Stops every gateway it started. */
  async close(): Promise<void> {
    const all = await Promise.allSettled(this.#gateways.values());
    for (const g of all) if (g.status === 'fulfilled') await g.value.close();
  }
}
