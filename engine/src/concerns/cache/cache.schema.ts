import { z } from 'zod';
import { durationSchema } from '../../catalog/duration.schema.ts';
import { jsonLogicSchema, matchSchema } from '../route/route.schema.ts';

/** A cache rule: which requests may be answered from cache, how, for how long, within what scope. */
export const cacheRuleSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .describe('unique id'),
  match: matchSchema.optional().describe('declarative conditions'),
  when: jsonLogicSchema.optional().describe('JSON Logic condition over request facts'),
  mode: z.enum(['exact', 'semantic']).default('exact').describe('exact key match, or embedding similarity'),
  ttl: durationSchema.describe('how long an entry lives'),
  scope: z
    .enum(['tenant', 'key'])
    .optional()
    .describe('required: who may share an entry; always part of the cache key'),
  similarity: z
    .number()
    .min(0)
    .max(1)
    .default(0.95)
    .describe('semantic: minimum cosine similarity for a hit'),
  embeddingModel: z.string().optional().describe('semantic: logical model used to embed the request'),
  promptCache: z.boolean().default(false).describe('mark stable prefixes for provider-side prompt caching'),
  countTokensOnHit: z
    .boolean()
    .default(false)
    .describe('charge token quotas for hits (they always count for rate limits)'),
});

/** A declared cache rule. */
export type CacheRuleSpec = z.output<typeof cacheRuleSchema>;
