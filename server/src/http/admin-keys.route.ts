import { parseDuration } from '@switchyard/engine';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { httpError } from '../errors.ts';
import { issueApiKey, viewApiKey } from '../stores/api-key.ts';
import { keyCapsSchema } from '../stores/key-cap.ts';
import { adminAuthHook } from './admin-auth.ts';
import type { GatewayContext } from './gateway-context.ts';
import { parseBody } from './parse-body.ts';

const createKeySchema = z.strictObject({
  tenant: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, { error: 'expected a tenant name' }),
  name: z.string().max(200).optional(),
  models: z.array(z.string().min(1)).max(256).optional(),
  expiresIn: z
    .string()
    .refine((v) => (parseDuration(v) ?? 0) > 0, { error: 'expected a duration like `30d`, `12h` or `90m`' })
    .optional(),
  expiresAt: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).optional(),
  caps: keyCapsSchema.optional(),
});

const updateKeySchema = z.strictObject({
  name: z.string().max(200).optional(),
  models: z.array(z.string().min(1)).max(256).nullable().optional(),
  expiresAt: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).nullable().optional(),
  caps: keyCapsSchema.nullable().optional(),
});

/** `/admin/v1/keys`: create (the key is shown once), list, show, update (caps, models, expiry), disable and delete API keys. */
export const adminKeysRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', adminAuthHook(ctx));

  app.post('/admin/v1/keys', async (request, reply) => {
    const body = parseBody(createKeySchema, request.body ?? {});
    const policy = ctx.policies.active?.policy;
    if (policy && !policy.tenants.has(body.tenant) && !policy.tenants.has('default')) {
      throw httpError(
        'invalid_request',
        {
          param: 'tenant',
          detail: `tenant \`${body.tenant}\` is not in policy \`${policy.id}\`, which has no \`default\` tenant`,
        },
        { param: 'tenant' },
      );
    }
    const now = ctx.clock.now();
    const expiresAt = body.expiresAt
      ? Date.parse(body.expiresAt)
      : body.expiresIn
        ? now + parseDuration(body.expiresIn)!
        : undefined;
    const { key, record } = await issueApiKey(
      ctx.keys,
      { tenant: body.tenant, name: body.name, allowedModels: body.models, expiresAt, caps: body.caps },
      now,
    );
    reply.code(201);
    return { key, ...viewApiKey(record) };
  });

  app.get('/admin/v1/keys', async (request) => {
    const { tenant } = request.query as { tenant?: unknown };
    const keys = await ctx.keys.list({
      tenant: typeof tenant === 'string' && tenant !== '' ? tenant : undefined,
    });
    return { object: 'list', data: keys.map(viewApiKey) };
  });

  app.get('/admin/v1/keys/:id', async (request) => {
    const { id } = request.params as { id: string };
    const record = await ctx.keys.get(id);
    if (!record) throw httpError('key_not_found', { id });
    return viewApiKey(record);
  });

  app.patch('/admin/v1/keys/:id', async (request) => {
    const { id } = request.params as { id: string };
    const body = parseBody(updateKeySchema, request.body ?? {});
    const updated = await ctx.keys.update(id, {
      name: body.name,
      allowedModels: body.models,
      expiresAt:
        body.expiresAt === undefined
          ? undefined
          : body.expiresAt === null
            ? null
            : Date.parse(body.expiresAt),
      caps: body.caps,
    });
    if (!updated) throw httpError('key_not_found', { id });
    // Caps and model lists apply from the next request, not after the key cache's TTL.
    ctx.authenticator.forget(id);
    return viewApiKey(updated);
  });

  app.post('/admin/v1/keys/:id/disable', async (request) => {
    const { id } = request.params as { id: string };
    if (!(await ctx.keys.disable(id))) throw httpError('key_not_found', { id });
    ctx.authenticator.forget(id);
    return viewApiKey((await ctx.keys.get(id))!);
  });

  app.delete('/admin/v1/keys/:id', async (request) => {
    const { id } = request.params as { id: string };
    if (!(await ctx.keys.delete(id))) throw httpError('key_not_found', { id });
    ctx.authenticator.forget(id);
    return { id, object: 'key', deleted: true };
  });
};
