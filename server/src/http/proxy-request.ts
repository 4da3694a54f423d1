import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from '../errors.ts';
import type { PolicyLease } from '../policy-runtime/policy-holder.ts';
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
