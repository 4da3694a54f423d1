import type { FastifyPluginAsync } from 'fastify';
import { adminAuthHook } from './admin-auth.ts';
import type { GatewayContext } from './gateway-context.ts';

/** `GET /admin/v1/tenants`: the policy's tenants with their key counts, plus tenants that only have keys. */
export const adminTenantsRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', adminAuthHook(ctx));

  app.get('/admin/v1/tenants', async () => {
    const policy = ctx.policies.active?.policy;
    const counts = new Map<string, { total: number; active: number }>();
    const now = ctx.clock.now();
    for (const key of await ctx.keys.list()) {
      const c = counts.get(key.tenant) ?? { total: 0, active: 0 };
      c.total++;
      if (!key.disabled && (key.expiresAt === undefined || key.expiresAt > now)) c.active++;
      counts.set(key.tenant, c);
    }
    const data: Record<string, unknown>[] = [];
    for (const [name, tenant] of policy?.tenants ?? []) {
      data.push({
        name,
        declared: true,
        description: tenant.spec.description ?? null,
        allowModels: tenant.spec.allowModels,
        quotas: tenant.spec.quotas,
        rateLimits: tenant.spec.rateLimits,
        keys: counts.get(name) ?? { total: 0, active: 0 },
      });
    }
    for (const [name, keys] of counts) {
      if (policy?.tenants.has(name)) continue;
      // Keys of tenants the policy does not name are served under `default`, if there is one.
      data.push({ name, declared: false, servedAs: policy?.tenants.has('default') ? 'default' : null, keys });
    }
    return { object: 'list', policy: policy?.id ?? null, data };
  });
};
