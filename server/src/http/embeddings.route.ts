import type { FastifyPluginAsync } from 'fastify';
import { httpErrorFromUpstream } from '../errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../providers/chat-types.ts';
import { accountRequest, type LevelUsage } from '../request/account.ts';
import { admitRequest } from '../request/admit.ts';
import { collectEmbeddingFacts } from '../request/collect-facts.ts';
import { executePlan, forDeployment, type LevelOutcome } from '../request/execute-plan.ts';
import { levelUsages, once } from '../request/level-usage.ts';
import { lookUpEmbeddingsCache } from '../request/look-up-cache.ts';
import { planAttemptWrapper } from '../request/plan-resilience.ts';
import { recordExecution, recordResponse, trailHeaders } from '../request/request-trail.ts';
import { embeddingsRequestSchema } from './chat-request.schema.ts';
import type { GatewayContext } from './gateway-context.ts';
import { parseBody } from './parse-body.ts';
import {
  authenticateHook,
  capturePolicy,
  clientGone,
  deferred,
  keyOf,
  planRequest,
} from './proxy-request.ts';

/** The text inputs of an embeddings request (token-array inputs are already counted). */
function inputTexts(body: EmbeddingsRequest): { texts: string[]; tokens: number } {
  const inputs: unknown[] = typeof body.input === 'string' ? [body.input] : body.input;
  if (inputs.length > 0 && typeof inputs[0] === 'number') return { texts: [], tokens: inputs.length };
  let tokens = 0;
  const texts: string[] = [];
  for (const input of inputs) {
    if (typeof input === 'string') texts.push(input);
    else if (Array.isArray(input)) tokens += input.length;
  }
  return { texts, tokens };
}

/** `POST /v1/embeddings`: one string, an array of strings, or token arrays; answered from cache when a rule applies. */
export const embeddingsRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/embeddings',
    { onRequest: authenticateHook(ctx, 'embeddings'), config: { errorShape: 'openai' } },
    async (request, reply) => {
      const trail = request.trail;
      const body = parseBody(embeddingsRequestSchema, request.body) as EmbeddingsRequest;
      const key = keyOf(request);
      const { active } = capturePolicy(ctx, request, reply);
      const facts = collectEmbeddingFacts(body, request.headers, key);
      const decided = planRequest(ctx, active.policy, facts, key, request);
      // A repeated Idempotency-Key: the first try may have done its work upstream, so no second helping.
      const idempotent =
        decided.idempotent &&
        ctx.idempotencyKeys.isFirstUse(key.id, request.headers['idempotency-key'], ctx.clock.now());
      const plan = idempotent === decided.idempotent ? decided : { ...decided, idempotent };
      const admission = await admitRequest(ctx, { plan, policy: active.policy, key, facts, trail });
      if (plan.logContent) request.loggedContent = { messages: body.input };
      const finished = deferred();
      trail.pending = finished.promise;
      const outcomes: LevelOutcome<EmbeddingsResponse>[] = [];
      reply.headers(admission.headers);
      const signal = clientGone(reply);
      try {
        const lookup = await lookUpEmbeddingsCache({
          cache: ctx.cache,
          clock: ctx.clock,
          plan,
          active,
          body,
          cacheControl: request.headers['cache-control'],
          trail,
          trace: request.trace,
          signal,
        });
        const hit = lookup?.hit?.entry;
        if (hit) {
          // Counts against rate limits, not against quotas (unless the rule charges tokens for hits).
          trail.deploymentId = hit.deploymentId;
          trail.outcome = 'ok';
          recordResponse(trail, hit.completion);
          const used = hit.completion.usage;
          const levels: LevelUsage[] = plan.cache?.countTokensOnHit
            ? [{ usage: { ...used, completion_tokens: 0 }, estimated: false }]
            : [];
          if (levels.length > 0) accountRequest(trail, undefined, levels);
          void admission.settle(levels).finally(finished.resolve);
          reply.headers(trailHeaders(trail));
          return hit.completion;
        }
        const execution = await executePlan<EmbeddingsResponse>({
          plan,
          providers: (name) => active.providers.get(name),
          attempt: (t) => t.adapter.embed(forDeployment(body, t.deployment), t.call),
          wrap: planAttemptWrapper(ctx, plan, {
            idempotent,
            deadlineMs: plan.resilience.timeouts.totalMs,
            trail,
            trace: request.trace,
          }),
          signal,
          requestId: trail.requestId,
          traceparent: trail.traceparent,
          clock: ctx.clock,
          beforeHop: (hop, level) => admission.reserveHop(hop, level),
          onLevel: (level, outcome) => {
            outcomes[level] = outcome;
          },
        });
        recordExecution(trail, plan, execution);
        const levels = await levelUsages(outcomes, {
          reported: (r) =>
            r.usage && {
              prompt_tokens: r.usage.prompt_tokens,
              completion_tokens: 0,
              total_tokens: r.usage.total_tokens,
            },
          countOutput: async () => 0,
          countPrompt: once(async () => {
            const { texts, tokens } = inputTexts(body);
            const count = await ctx.tokenCounter();
            return texts.reduce((sum, text) => sum + count(text), tokens);
          }),
        });
        accountRequest(trail, execution.ok ? execution.deployment : undefined, levels);
        void admission.settle(levels).finally(finished.resolve);
        if (!execution.ok) {
          if (execution.error.kind === 'aborted') trail.outcome = 'cancelled';
          throw httpErrorFromUpstream(execution.error);
        }
        recordResponse(trail, execution.result);
        if (lookup?.write)
          void ctx.cache.remember(
            lookup,
            execution.result,
            'ok',
            { deploymentId: execution.deployment.id, costUsd: trail.costUsd },
            ctx.clock.now(),
          );
        reply.headers(trailHeaders(trail));
        return execution.result;
      } catch (err) {
        // Settling is once-only: after the settle above this does nothing; after a bug it releases all.
        void admission.settle([]).finally(finished.resolve);
        throw err;
      }
    },
  );
};
