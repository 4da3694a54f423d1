import type { PolicyFile } from '@switchyard/engine';

/** Options of `versionTestPolicy`. */
export interface VersionTestPolicyOptions {
  /** Input price of the only deployment: change it to get another version. */
  price?: number;
  rollout?: string;
  name?: string;
}

/**
 * A small simulator policy for version and rollout tests: one logical model behind `auto`, no
 * latency. Each price gives another version.
 */
export function versionTestPolicy(options: VersionTestPolicyOptions = {}): PolicyFile[] {
  return [
    {
      path: 'policy.yaml',
      text: `apiVersion: switchyard/v1
name: ${options.name ?? 'shop'}
providers:
  sim: { type: simulator, profile: { ttftMs: 0, tpotMs: 0 } }
models:
  fast:
    deployments: [{ provider: sim, model: sim-small, price: { inPerMTok: ${options.price ?? 1}, outPerMTok: 2 } }]
routes:
  - { id: auto, match: { model: auto }, target: fast }
rollout: ${options.rollout ?? '{ steps: [5, 50, 100], holdMinutes: 10, minRequests: 20 }'}
`,
    },
  ];
}
