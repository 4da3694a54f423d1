import type { FastifyPluginAsync } from 'fastify';
import type { GatewayContext } from './gateway-context.ts';

/** `GET /healthz` (the process is alive) and `GET /readyz` (a policy is loaded and the gateway is not draining). */
export const healthRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const policy = ctx.policies.active?.policy.id;
    const checks = { policyLoaded: policy !== undefined, shuttingDown: ctx.isShuttingDown() };
    const ready = checks.policyLoaded && !checks.shuttingDown;
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not_ready', policy, checks };
  });
};
