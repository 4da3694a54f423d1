import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import type { DeploymentHealth } from './deployment-health.ts';

/** Options of `adminHealthRoute`. */
export interface AdminHealthRouteOptions {
  health: DeploymentHealth;
  clock: Clock;
  /** The admin guard, run on every request of the route (`adminAuthHook(ctx)`). Required: health shows the fleet. */
  auth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/** `GET /admin/v1/health`: per deployment, success ratio and latency over 1 and 5 minutes, last error, breaker state. */
export const adminHealthRoute: FastifyPluginAsync<AdminHealthRouteOptions> = async (
  app,
  { health, clock, auth },
) => {
  app.addHook('onRequest', auth);
  app.get('/admin/v1/health', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return health.snapshot(clock.now());
  });
};
