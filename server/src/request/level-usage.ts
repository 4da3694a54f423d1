import type { Usage } from '../providers/chat-types.ts';
import type { UpstreamError } from '../providers/provider.ts';
import type { LevelUsage } from './account.ts';
import type { LevelOutcome } from './execute-plan.ts';

/** Codes of failures where no upstream ever saw the request: nothing was used. */
const neverSent = new Set([
  'circuit_open',
  'deployment_saturated',
  'upstream_unreachable',
  'no_healthy_deployment',
]);

/** Whether the upstream may have received (and billed) the request before it failed. */
export function reachedUpstream(err: UpstreamError): boolean {
  return err.kind !== 'connect' && !neverSent.has(err.code);
}

/** How to read and, when missing, estimate the usage of one kind of answer. */
export interface UsageMeasure<T> {
  /** The usage the upstream reported with the answer, if it did. */
  reported(result: T): Usage | undefined;
  /** Output tokens of the answer, counted by the gateway (only called when nothing was reported). */
  countOutput(result: T): Promise<number>;
  /** Prompt tokens of the request, counted by the gateway (memoize: called once per level at most). */
  countPrompt(): Promise<number>;
}

/**
 * What each level of a plan used, for settling and the ledger: an answer's reported usage, or the
 * gateway's count when the upstream reported none (`estimated`); a failure the upstream received
 * charges its prompt and no output (upstream errors report no usage); a failure that never left
 * the gateway, or a level never tried, used nothing (its reservation is released).
 */
export async function levelUsages<T>(
  outcomes: readonly (LevelOutcome<T> | undefined)[],
  measure: UsageMeasure<T>,
): Promise<(LevelUsage | undefined)[]> {
  return Promise.all(
    outcomes.map(async (outcome): Promise<LevelUsage | undefined> => {
      if (!outcome) return undefined;
      if (outcome.ok) {
        const reported = measure.reported(outcome.result);
        if (reported) return { deployment: outcome.deployment, usage: reported, estimated: false };
        const [prompt, output] = await Promise.all([
          measure.countPrompt(),
          measure.countOutput(outcome.result),
        ]);
        return { deployment: outcome.deployment, usage: usageOf(prompt, output), estimated: true };
      }
      if (!outcome.deployment || !reachedUpstream(outcome.error)) return undefined;
      return {
        deployment: outcome.deployment,
        usage: usageOf(await measure.countPrompt(), 0),
        estimated: true,
      };
    }),
  );
}

/** A usage from counted tokens. */
export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** Runs `count` once, however many times the result is asked for. */
export function once(count: () => Promise<number>): () => Promise<number> {
  let memo: Promise<number> | undefined;
  return () => {
    memo ??= count();
    return memo;
  };
}
