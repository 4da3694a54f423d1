import type { CompiledPolicy } from '@switchyard/engine';
import type { FastifyPluginAsync } from 'fastify';
import { httpError } from '../errors.ts';
import { isModelAllowedForKey } from '../request/authenticate.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';
import type { GatewayContext } from './gateway-context.ts';
import { authenticateHook, capturePolicy, keyOf } from './proxy-request.ts';

/** One entry of `GET /v1/models`, in OpenAI's shape (plus a description). */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  description?: string | undefined;
}

/** The model names clients may send as `model`: route aliases (`auto`) that are not models themselves. */
function routeAliases(policy: CompiledPolicy): string[] {
  const aliases = new Set<string>();
  for (const route of policy.spec.routes) {
    const model = route.match?.model;
    for (const name of model === undefined ? [] : Array.isArray(model) ? model : [model]) {
      if (!policy.models.has(name)) aliases.add(name);
    }
  }
  return [...aliases];
}

/** The logical models (and route aliases) a key may use under a policy, in policy order. */
export function modelsForKey(policy: CompiledPolicy, key: ApiKeyRecord, createdSec: number): ModelEntry[] {
  const tenant = policy.tenants.get(key.tenant) ?? policy.tenants.get('default');
  if (!tenant) return [];
  const entries: ModelEntry[] = [];
  for (const alias of routeAliases(policy)) {
    if (key.allowedModels === undefined || key.allowedModels.includes(alias)) {
      entries.push({
        id: alias,
        object: 'model',
        created: createdSec,
        owned_by: 'switchyard',
        description: 'routed by the policy',
      });
    }
  }
  for (const [name, model] of policy.models) {
    if (!tenant.allows(name) || !isModelAllowedForKey(key, name)) continue;
    entries.push({
      id: name,
      object: 'model',
      created: createdSec,
      owned_by: 'switchyard',
      description: model.spec.description,
    });
  }
  return entries;
}

/** `GET /v1/models`: what this key may ask for, in OpenAI's list shape. */
export const modelsRoute: FastifyPluginAsync<{ ctx: GatewayContext }> = async (app, { ctx }) => {
  app.get('/v1/models', { onRequest: authenticateHook(ctx) }, async (request, reply) => {
    const { active } = capturePolicy(ctx, request, reply);
    const created = Math.floor(active.loadedAtMs / 1000);
    return { object: 'list', data: modelsForKey(active.policy, keyOf(request), created) };
  });
  app.get('/v1/models/:model', { onRequest: authenticateHook(ctx) }, async (request, reply) => {
    const { active } = capturePolicy(ctx, request, reply);
    const { model } = request.params as { model: string };
    const found = modelsForKey(active.policy, keyOf(request), Math.floor(active.loadedAtMs / 1000)).find(
      (m) => m.id === model,
    );
    if (!found) {
      throw httpError(
        'model_not_found',
        { detail: `model \`${model}\` does not exist or this key may not use it` },
        { param: 'model' },
      );
    }
    return found;
  });
};
