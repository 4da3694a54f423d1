import { z } from 'zod';
import { modelSchema } from '../catalog/models.schema.ts';
import { providerSchema } from '../catalog/providers.schema.ts';
import { tenantSchema } from '../catalog/tenants.schema.ts';
import { cacheRuleSchema } from '../concerns/cache/cache.schema.ts';
import { experimentSchema } from '../concerns/experiment/experiment.schema.ts';
import { gateSchema } from '../concerns/gate/gate.schema.ts';
import { resilienceSchema } from '../concerns/resilience/resilience.schema.ts';
import { rolloutSchema } from '../concerns/rollout/rollout.schema.ts';
import { routeSchema } from '../concerns/route/route.schema.ts';

const nameRe = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/**
 * The Switchyard policy DSL. This one schema is the source of the TypeScript types, the JSON Schema
 * the studio validates against (`policyJsonSchema`) and `docs/policy-reference.md`.
 */
export const policySchema = z.strictObject({
  apiVersion: z.literal('switchyard/v1').describe('DSL version; `switchyard/v1`'),
  name: z.string().regex(nameRe).describe('policy name, shown with its version as `name@version`'),
  description: z.string().optional().describe('what this policy is for'),
  providers: z.record(z.string().regex(nameRe), providerSchema).describe('upstream providers by name'),
  models: z.record(z.string().regex(nameRe), modelSchema).describe('logical models by the name clients send'),
  tenants: z
    .record(z.string().regex(nameRe), tenantSchema)
    .default({})
    .describe('tenants by name; `default` applies to tenants not named'),
  routes: z
    .array(routeSchema)
    .default([])
    .describe('routes, first match wins; a request naming a model directly needs none'),
  experiments: z.array(experimentSchema).default([]).describe('A/B experiments routes can refer to'),
  cache: z.array(cacheRuleSchema).default([]).describe('cache rules, first match wins'),
  resilience: resilienceSchema
    .default(resilienceSchema.parse({}))
    .describe('timeouts, retries, breaker, queue'),
  rollout: rolloutSchema.default(rolloutSchema.parse({})).describe('how a candidate version is rolled out'),
  gate: gateSchema.default(gateSchema.parse({})).describe('the eval gate a candidate must pass'),
});

/** A policy as written (before defaults). */
export type PolicyInput = z.input<typeof policySchema>;
/** A validated policy with defaults applied. */
export type PolicySpec = z.output<typeof policySchema>;
