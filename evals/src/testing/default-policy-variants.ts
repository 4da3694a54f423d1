import { readFileSync } from 'node:fs';
import type { PolicyFile } from '@switchyard/engine';

/** The repository's default policy folder. */
export const defaultPolicyDir = new URL('../../../policies/default', import.meta.url).pathname;

const latency = 'profile: { ttftMs: 30, tpotMs: 3, jitter: 0.1, seed: 7 }';
const escalation =
  '    escalate:\n      - { to: strong, on: [error, timeout, length, refusal, lowConfidence] }\n';
const strongPrice = 'price: { inPerMTok: 3, outPerMTok: 15 }';

function replaceOnce(text: string, find: string, replacement: string): string {
  if (!text.includes(find)) throw new Error(`policies/default/policy.yaml no longer contains \`${find}\``);
  return text.replace(find, replacement);
}

/**
 * `policies/default` with the simulator's latency set to zero (so a gate run takes seconds), and
 * optionally one of the changes the gate tests judge: `cheaper-strong` only lowers a price, `weak`
 * stops escalating hard tasks from the cheap tier to the strong one.
 */
export function defaultPolicyVariant(change?: 'cheaper-strong' | 'weak'): PolicyFile[] {
  let text = replaceOnce(
    readFileSync(`${defaultPolicyDir}/policy.yaml`, 'utf8'),
    latency,
    'profile: { ttftMs: 0, tpotMs: 0, seed: 7 }',
  );
  if (change === 'cheaper-strong')
    text = replaceOnce(text, strongPrice, 'price: { inPerMTok: 2.5, outPerMTok: 12 }');
  if (change === 'weak') text = replaceOnce(text, escalation, '');
  return [{ path: 'policy.yaml', text }];
}
