import type { FastifyPluginAsync } from 'fastify';
import { httpErrorFromDenial, httpErrorFromUpstream } from '../errors.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../providers/chat-types.ts';
import { accountRequest } from '../request/account.ts';
import { restrictPlanToKey } from '../request/authenticate.ts';
import { collectEmbeddingFacts } from '../request/collect-facts.ts';
import { decideRequest } from '../request/decide.ts';
import { executePlan, forDeployment } from '../request/execute-plan.ts';
import { trailHeaders } from '../request/request-trail.ts';
import { withDeadline } from '../resilience/deadline.ts';
import { embeddingsRequestSchema } from './chat-request.schema.ts';
import type { GatewayContext } from './gateway-context.ts';
import { parseBody } from './parse-body.ts';
import { authenticateHook, capturePolicy, clientGone, keyOf } from './proxy-request.ts';

/** `POST /v1/embeddings`: one string, an array of strings, or token arrays. */
export const embeddingsRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.post(
    '/v1/embeddings',
    { onRequest: authenticateHook(ctx), config: { errorShape: 'openai' } },
    async (request, reply) => {
      const body = parseBody(embeddingsRequestSchema, request.body) as EmbeddingsRequest;
      const key = keyOf(request);
      const trail = request.trail;
      const { active } = capturePolicy(ctx, request, reply);
      const facts = collectEmbeddingFacts(body, request.headers, key);
      const decision = decideRequest(active.policy, facts, ctx.clock);
      if (decision.kind === 'deny') {
        trail.routeId = decision.routeId;
        throw httpErrorFromDenial(decision);
      }
      const plan = restrictPlanToKey(decision, key, facts.model);
      trail.routeId = plan.routeId;
      trail.target = plan.target;
      const execution = await executePlan<EmbeddingsResponse>({
        plan,
        providers: (name) => active.providers.get(name),
        attempt: (t) => t.adapter.embed(forDeployment(body, t.deployment), t.call),
        wrap: withDeadline(plan.resilience.timeouts.totalMs),
        signal: clientGone(reply),
        requestId: trail.requestId,
        traceparent: trail.traceparent,
        clock: ctx.clock,
      });
      trail.attempts = execution.attempts;
      trail.escalations = execution.escalations;
      if (!execution.ok) {
        if (execution.error.kind === 'aborted') trail.outcome = 'cancelled';
        throw httpErrorFromUpstream(execution.error);
      }
      const usage = execution.result.usage;
      accountRequest(trail, execution.deployment, {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: 0,
        total_tokens: usage.total_tokens,
      });
      reply.headers(trailHeaders(trail));
      return execution.result;
    },
  );
};
