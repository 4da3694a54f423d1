import { z } from 'zod';
import { quotaSchema } from '../concerns/quota/quota.schema.ts';
import { rateLimitSchema } from '../concerns/ratelimit/ratelimit.schema.ts';

/** A tenant (team, application): which models it may use, its quotas and its rate limits. */
export const tenantSchema = z.strictObject({
  description: z.string().optional().describe('who this tenant is'),
  allowModels: z
    .union([z.literal('*'), z.array(z.string())])
    .default('*')
    .describe('logical models the tenant may use; `*` for all'),
  quotas: z.array(quotaSchema).default([]).describe('caps on tokens, requests or USD'),
  rateLimits: z.array(rateLimitSchema).default([]).describe('token-bucket limits'),
  logContent: z.boolean().default(false).describe('opt in to message content in decision logs'),
  onStoreFailure: z
    .enum(['open', 'closed'])
    .default('open')
    .describe(
      'when the shared limit store is down: serve with local limits (open) or refuse with 503 (closed)',
    ),
});

/** A declared tenant. */
export type TenantSpec = z.output<typeof tenantSchema>;
