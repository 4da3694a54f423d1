import type { TokenLogprob } from '../chat-types.ts';
import { hashUnit } from './deterministic-hash.ts';

/**
 * Deterministic per-token log probabilities. A confident answer averages about −0.02 × (6 − tier)
 * (−0.1 at tier 1, −0.02 at tier 5); an answer the tier struggled with (a wrong sum, degraded JSON,
 * an ignored format) averages about −(1.2 + 0.2 × (5 − tier)), below the −1.0 that counts as low
 * confidence, so escalation on `lowConfidence` can be tested.
 */
export function simulateLogprobs(
  tokens: readonly string[],
  options: { tier: number; struggled: boolean; salt: number; topLogprobs?: number | null | undefined },
): TokenLogprob[] {
  const base = options.struggled ? 1.2 + 0.2 * (5 - options.tier) : 0.02 * (6 - options.tier);
  const alternatives = Math.min(20, Math.max(0, options.topLogprobs ?? 0));
  return tokens.map((token, index) => {
    const logprob = -base * (0.5 + hashUnit(options.salt, index, token));
    const entry: TokenLogprob = {
      token,
      logprob: round(logprob),
      bytes: [...Buffer.from(token, 'utf8')],
      top_logprobs: [],
    };
    for (let rank = 0; rank < alternatives; rank++) {
      const alternative = rank === 0 ? token : `${token}${'_'.repeat(rank)}`;
      const value = rank === 0 ? logprob : logprob - rank * (0.5 + hashUnit(options.salt, index, rank));
      entry.top_logprobs!.push({
        token: alternative,
        logprob: round(value),
        bytes: [...Buffer.from(alternative, 'utf8')],
      });
    }
    return entry;
  });
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
