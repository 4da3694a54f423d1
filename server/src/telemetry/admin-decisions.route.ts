import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from '../errors.ts';
import type { DecisionRing } from './decision-ring.ts';

/** Options of `adminDecisionsRoute`. */
export interface AdminDecisionsRouteOptions {
  ring: DecisionRing;
  /** The admin guard, run on every request of the route (`adminAuthHook(ctx)`). Required: decisions name tenants and keys. */
  auth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * `GET /admin/v1/decisions`: the last decisions kept in memory, newest first, as
 * `{ object: 'list', data }`. `?requestId=` answers that request's decision as a one-item list, or
 * 404 `decision_not_found` when the ring does not hold it (never seen, still running, or already
 * pushed out); `?tenant=` filters; `?limit=` (1 to the ring's capacity, default 50).
 */
export const adminDecisionsRoute: FastifyPluginAsync<AdminDecisionsRouteOptions> = async (
  app,
  { ring, auth },
) => {
  app.addHook('onRequest', auth);
  app.get('/admin/v1/decisions', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const text = (name: string) =>
      typeof query[name] === 'string' && query[name] !== '' ? (query[name] as string) : undefined;
    reply.header('cache-control', 'no-store');
    const requestId = text('requestId');
    if (requestId !== undefined) {
      const record = ring.get(requestId);
      if (!record)
        throw httpError('decision_not_found', {
          requestId: requestId.slice(0, 128),
          capacity: ring.capacity,
        });
      return { object: 'list', data: [record] };
    }
    const rawLimit = text('limit');
    const limit = rawLimit === undefined ? 50 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > ring.capacity)
      throw httpError(
        'invalid_request',
        { param: 'limit', detail: `expected an integer from 1 to ${ring.capacity}, got \`${rawLimit}\`` },
        { param: 'limit' },
      );
    return { object: 'list', data: ring.list({ tenant: text('tenant'), limit }) };
  });
};
