import { formatDiagnostic } from '@switchyard/engine';
import type { FastifyPluginAsync } from 'fastify';
import { httpError, openAiErrorBody } from '../errors.ts';
import { adminAuthHook } from './admin-auth.ts';
import type { GatewayContext } from './gateway-context.ts';

/** `/admin/v1/policy`: the active policy, and a reload that refuses invalid policies (422, old one kept). */
export const adminPolicyRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', adminAuthHook(ctx));

  app.get('/admin/v1/policy', async () => {
    const active = ctx.policies.active;
    if (!active) throw httpError('policy_not_loaded');
    const { policy } = active;
    return {
      id: policy.id,
      name: policy.name,
      version: policy.version,
      hash: policy.hash,
      source: ctx.policies.source,
      loadedAt: new Date(active.loadedAtMs).toISOString(),
      files: policy.sources.map((f) => f.path),
      warnings: policy.warnings.map(formatDiagnostic),
    };
  });

  app.post('/admin/v1/policy/reload', async (_request, reply) => {
    const previous = ctx.policies.active?.policy.id ?? null;
    const result = await ctx.policies.reload();
    if (!result.ok) {
      reply.code(422);
      return {
        ...openAiErrorBody(httpError('policy_invalid', { count: result.errors.length })),
        policy: previous,
        errors: result.errors.map((d) => ({ ...d, text: formatDiagnostic(d) })),
        warnings: result.warnings.map(formatDiagnostic),
      };
    }
    return {
      policy: result.policy.id,
      previous,
      changed: result.changed,
      warnings: result.warnings.map(formatDiagnostic),
    };
  });
};
