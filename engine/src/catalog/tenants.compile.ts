import type { CompiledTenant } from '../model/compiled-policy.ts';
import { type CompileContext, isDeclaredModel } from '../pipeline/compile-context.ts';
import type { TenantSpec } from './tenants.schema.ts';

/** The default id of a quota: `<per>-<window>-<unit>`. */
function quotaId(q: TenantSpec['quotas'][number]): string {
  return (
    q.id ??
    `${q.per}-${q.window}-${q.tokens !== undefined ? 'tokens' : q.requests !== undefined ? 'requests' : 'usd'}`
  );
}

/** The default id of a rate limit: `<per>-<unit>`. */
function limitId(r: TenantSpec['rateLimits'][number]): string {
  return r.id ?? `${r.per}-${r.rps !== undefined ? 'rps' : r.rpm !== undefined ? 'rpm' : 'tpm'}`;
}

/**
 * Checks tenants (allowed models exist, quota and limit ids unique) and resolves default ids, so
 * every charge and limit in a plan has a stable key.
 */
export function compileTenants(ctx: CompileContext): Map<string, CompiledTenant> {
  const out = new Map<string, CompiledTenant>();
  for (const [name, t] of Object.entries(ctx.spec.tenants)) {
    if (t.allowModels !== '*') {
      t.allowModels.forEach((m, i) => {
        if (!isDeclaredModel(ctx, m))
          ctx.error(
            'SY_POLICY_UNKNOWN_MODEL',
            ['tenants', name, 'allowModels', i],
            `tenant \`${name}\` allows unknown model \`${m}\``,
          );
      });
    }
    const ids = new Set<string>();
    const quotas = t.quotas.map((q, i) => {
      const id = quotaId(q);
      if (ids.has(id))
        ctx.error(
          'SY_POLICY_DUPLICATE_ID',
          ['tenants', name, 'quotas', i],
          `quota id \`${id}\` appears twice in tenant \`${name}\`; give one an \`id\``,
        );
      ids.add(id);
      return { ...q, id };
    });
    const rateLimits = t.rateLimits.map((r, i) => {
      const id = limitId(r);
      if (ids.has(id))
        ctx.error(
          'SY_POLICY_DUPLICATE_ID',
          ['tenants', name, 'rateLimits', i],
          `rate limit id \`${id}\` appears twice in tenant \`${name}\`; give one an \`id\``,
        );
      ids.add(id);
      return { ...r, id };
    });
    const allowed = t.allowModels === '*' ? undefined : new Set(t.allowModels);
    out.set(
      name,
      Object.freeze({
        name,
        spec: { ...t, quotas, rateLimits },
        allows: (m: string) => allowed === undefined || allowed.has(m),
        reason: Object.freeze({
          rule: `tenant:${name}`,
          detail: name === 'default' ? 'the default tenant' : 'tenant named by the policy',
        }),
        quotas: quotas.map((q) => ({
          id: q.id,
          per: q.per,
          window: q.window,
          unit:
            q.tokens !== undefined
              ? ('tokens' as const)
              : q.requests !== undefined
                ? ('requests' as const)
                : ('usd' as const),
          limit: q.tokens ?? q.requests ?? q.usd ?? 0,
          memo: new Map(),
        })),
        limits: rateLimits.map((r) => ({
          id: r.id,
          per: r.per,
          unit: r.tpm !== undefined ? ('tokens' as const) : ('requests' as const),
          capacity: r.burst ?? r.rps ?? r.rpm ?? r.tpm ?? 0,
          refillPerSec: r.rps ?? (r.rpm ?? r.tpm ?? 0) / 60,
          headerLimit: r.rps ?? r.rpm ?? r.tpm ?? 0,
          memo: new Map(),
        })),
      }),
    );
  }
  if (!out.has('default') && Object.keys(ctx.spec.tenants).length > 0) {
    ctx.warn(
      'SY_POLICY_NO_DEFAULT_TENANT',
      ['tenants'],
      'no `default` tenant: requests from tenants this policy does not name will be refused',
    );
  }
  return out;
}
