import type { CompiledPolicy, Endpoint, Plan, RequestFacts } from '@switchyard/engine';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpError, httpErrorFromDenial } from '../errors.ts';
import type { PolicyLease } from '../policy-runtime/policy-holder.ts';
import type { ServingLease } from '../policy-runtime/policy-lifecycle.ts';
import type { VersionPick } from '../policy-runtime/version-router.ts';
import { restrictPlanToKey } from '../request/authenticate.ts';
import { decideRequest } from '../request/decide.ts';
import { continueTrace } from '../request/trace-context.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';
import { RequestTrace } from '../telemetry/request-trace.ts';
import type { GatewayContext } from './gateway-context.ts';

/** The authenticated key of a proxied request (set by the `authenticate` hook). */
export function keyOf(request: FastifyRequest): ApiKeyRecord {
  const key = request.apiKey;
  if (!key) throw new Error('route is missing the authenticate hook');
  return key;
}

/**
 * An `onRequest` hook that authenticates requests (401 before the body is even read). With an
 * `endpoint`, the request is a proxied model call: it gets a decision line, metrics and, once
 * authenticated, a ledger row, and its trace starts here (continuing the client's `traceparent`;
 * spans are built only when traces are exported).
 */
export function authenticateHook(ctx: GatewayContext, endpoint?: Endpoint) {
  const operation = endpoint === 'embeddings' ? 'embeddings' : 'chat';
  return async (request: FastifyRequest): Promise<void> => {
    const trail = request.trail;
    if (endpoint === undefined) {
      const key = await ctx.authenticator.authenticate(request.headers);
      request.apiKey = key;
      trail.tenant = key.tenant;
      trail.keyId = key.id;
      return;
    }
    trail.endpoint = endpoint;
    const incoming = request.headers.traceparent;
    if (ctx.tracer.isRecording) {
      const trace = RequestTrace.start(ctx.tracer, {
        traceparent: incoming,
        operation,
        httpRoute: request.routeOptions.url ?? request.url,
        requestId: trail.requestId,
      });
      request.trace = trace;
      trail.traceparent = trace.span.traceparent;
    } else {
      trail.traceparent = continueTrace(incoming);
    }
    const key = await ctx.authenticator.authenticate(request.headers);
    request.apiKey = key;
    trail.tenant = key.tenant;
    trail.keyId = key.id;
    request.trace?.recordCaller(key.tenant, key.id);
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
  const key = request.apiKey;
  // During a rollout the version router picks stable or candidate by the caller's sticky bucket.
  const lease: ServingLease | undefined =
    ctx.lifecycle && key
      ? ctx.lifecycle.acquire({ tenant: key.tenant, keyId: key.id, user: endUserOf(request) })
      : ctx.policies.acquire();
  if (!lease) throw httpError('policy_not_loaded');
  reply.raw.once('close', lease.release);
  request.trail.policy = lease.active.policy.id;
  const pick = lease.pick;
  if (pick) versionPicks.set(request, pick);
  if (pick?.rollout) reply.header('x-switchyard-rollout', `${pick.rollout.id}/${pick.arm}`);
  return lease;
}

/** The rollout arm each in-flight request was routed to (for the shadow step's observations). */
const versionPicks = new WeakMap<FastifyRequest, VersionPick>();

/** The end user a request names (`user` in the body or `x-switchyard-user`), for sticky rollouts. */
function endUserOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-switchyard-user'];
  if (typeof header === 'string' && header !== '') return header;
  const user = (request.body as { user?: unknown } | undefined)?.user;
  return typeof user === 'string' && user !== '' ? user : undefined;
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
  request: FastifyRequest,
): Plan {
  const trail = request.trail;
  trail.requestedModel = facts.model;
  const span = request.trace?.startChild('decide');
  let decision: ReturnType<typeof decideRequest>;
  try {
    const snapshot = ctx.breakerMirror.snapshot(ctx.clock.now());
    decision = decideRequest(policy, facts, ctx.clock, snapshot);
    // Shadow step: the candidate decides the same request (pure, microseconds) and is never executed.
    const pick = versionPicks.get(request);
    if (pick?.shadow && ctx.lifecycle) {
      ctx.lifecycle.router.observeShadow(
        pick,
        decision,
        decideRequest(pick.shadow, facts, ctx.clock, snapshot),
      );
    }
  } catch (err) {
    span?.setStatus('error', 'decide failed').end();
    throw err;
  }
  if (span) {
    span.setAttributes({
      'switchyard.route': decision.routeId,
      'switchyard.denial': decision.kind === 'deny' ? decision.code : undefined,
    });
    span.end();
  }
  trail.reasons = decision.reasons;
  if (decision.kind === 'deny') {
    trail.routeId = decision.routeId;
    trail.denied = true;
    const limit = decision.limit;
    if (limit)
      trail.rejection =
        'limitId' in limit ? { kind: 'rateLimit', id: limit.limitId } : { kind: 'quota', id: limit.quotaId };
    throw httpErrorFromDenial(decision);
  }
  trail.routeId = decision.routeId;
  trail.target = decision.target;
  request.trace?.recordPlan({ policy: decision.policy, routeId: decision.routeId, target: decision.target });
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
