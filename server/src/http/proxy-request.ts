import type { CompiledPolicy, Plan, RequestFacts } from '@switchyard/engine';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpError, httpErrorFromDenial } from '../errors.ts';
import type { PolicyLease } from '../policy-runtime/policy-holder.ts';
import { restrictPlanToKey } from '../request/authenticate.ts';
import { decideRequest } from '../request/decide.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';
import type { GatewayContext } from './gateway-context.ts';

/** The authenticated key of a proxied request (set by the `authenticate` hook). */
export function keyOf(request: FastifyRequest): ApiKeyRecord {
  const key = request.apiKey;
  if (!key) throw new Error('route is missing the authenticate hook');
  return key;
}

/** An `onRequest` hook that authenticates proxied requests (401 before the body is even read). */
export function authenticateHook(ctx: GatewayContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const key = await ctx.authenticator.authenticate(request.headers);
    request.apiKey = key;
    request.trail.tenant = key.tenant;
    request.trail.keyId = key.id;
  };
}

/**
 * Captures the active policy for the whole request (a reload mid-request does not affect it) and
 * releases it when the response has ended.
 */
export function capturePolicy(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
): PolicyLease {
  const lease = ctx.policies.acquire();
  if (!lease) throw httpError('policy_not_loaded');
  reply.raw.once('close', lease.release);
  request.trail.policy = lease.active.policy.id;
  return lease;
}

/** An abort signal that fires the moment the client goes away before its response has ended. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Step 3 for a proxied request: the engine decides on the facts and the breaker mirror's snapshot
 * (plans skip open deployments), then the key's model list applies. A refusal is marked as a
 * denial on the trail (its ledger outcome) and thrown as its OpenAI-shaped error.
 */
export function planRequest(
  ctx: GatewayContext,
  policy: CompiledPolicy,
  facts: RequestFacts,
  key: ApiKeyRecord,
  trail: FastifyRequest['trail'],
): Plan {
  const decision = decideRequest(policy, facts, ctx.clock, ctx.breakerMirror.snapshot(ctx.clock.now()));
  if (decision.kind === 'deny') {
    trail.routeId = decision.routeId;
    trail.denied = true;
    throw httpErrorFromDenial(decision);
  }
  trail.routeId = decision.routeId;
  trail.target = decision.target;
  if (decision.experiment) trail.experimentArm = `${decision.experiment.id}/${decision.experiment.arm}`;
  try {
    return restrictPlanToKey(decision, key, facts.model);
  } catch (err) {
    trail.denied = true;
    throw err;
  }
}

/** A promise and the function that resolves it. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
