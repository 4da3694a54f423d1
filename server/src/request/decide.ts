import {
  type CompiledPolicy,
  type Decision,
  decide,
  emptySnapshot,
  type RequestFacts,
  type StateSnapshot,
} from '@switchyard/engine';
import type { Clock } from '../clock.ts';

/**
 * Step 3 of the request path: asks the engine what to do. The server supplies time and randomness
 * (the engine has neither) and the state snapshot; the engine's answer is final.
 */
export function decideRequest(
  policy: CompiledPolicy,
  facts: RequestFacts,
  clock: Clock,
  snapshot: StateSnapshot = emptySnapshot,
): Decision {
  return decide(policy, facts, snapshot, { nowMs: clock.now(), random: Math.random });
}
