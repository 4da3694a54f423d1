import { z } from 'zod';
import { escalationSchema } from '../escalate/escalate.schema.ts';

/** A JSON Logic expression over request facts (see the facts table in the policy reference). */
export const jsonLogicSchema = z
  .union([z.record(z.string(), z.unknown()), z.boolean()])
  .meta({ description: 'JSON Logic over request facts, e.g. `{ ">": [{ "var": "inputTokens" }, 32000] }`' });

/** Declarative conditions on request facts; every condition given must hold. */
export const matchSchema = z.strictObject({
  model: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('requested model name(s)'),
  tags: z.array(z.string()).optional().describe('all of these tags must be present'),
  tenant: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('tenant name(s)'),
  endpoint: z
    .union([z.enum(['chat', 'embeddings', 'messages']), z.array(z.enum(['chat', 'embeddings', 'messages']))])
    .optional()
    .describe('API endpoint(s)'),
  stream: z.boolean().optional().describe('streamed or not'),
  hasTools: z.boolean().optional().describe('offers tools or not'),
  metadata: z.record(z.string(), z.string()).optional().describe('metadata entries that must be equal'),
});

/** A route: when it matches (first match wins), which model serves the request and how to escalate. */
export const routeSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .describe('unique id, named in reasons and headers'),
  description: z.string().optional().describe('what the route is for'),
  match: matchSchema.optional().describe('declarative conditions; omitted means any request'),
  when: jsonLogicSchema.optional().describe('JSON Logic condition over request facts'),
  target: z
    .string()
    .optional()
    .describe('logical model serving the request; required unless `experiment` is set'),
  experiment: z.string().optional().describe('an experiment whose sticky arm picks the target'),
  escalate: escalationSchema.optional().describe('stronger models to move to on declared triggers'),
  idempotent: z.boolean().default(true).describe('false forbids retries (e.g. tool calls with side effects)'),
});

/** A declared route. */
export type RouteSpec = z.output<typeof routeSchema>;
