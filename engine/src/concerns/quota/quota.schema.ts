import { z } from 'zod';

/** Calendar-aligned (UTC) quota windows. */
export const quotaWindows = ['minute', 'hour', 'day', 'month'] as const;

/** A quota window. */
export type QuotaWindow = (typeof quotaWindows)[number];

/** A cap on tokens, requests or USD over a calendar window, per tenant or per key. */
export const quotaSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/)
      .optional()
      .describe('unique id within the tenant; defaults to `<per>-<window>-<unit>`'),
    per: z.enum(['tenant', 'key']).describe('who the cap applies to'),
    window: z.enum(quotaWindows).describe('calendar window, UTC'),
    tokens: z.number().int().positive().optional().describe('input + output tokens'),
    requests: z.number().int().positive().optional().describe('requests'),
    usd: z.number().positive().optional().describe('cost in USD'),
  })
  .refine((q) => [q.tokens, q.requests, q.usd].filter((v) => v !== undefined).length === 1, {
    message: 'a quota caps exactly one of `tokens`, `requests` or `usd`',
  });

/** A declared quota. */
export type QuotaSpec = z.output<typeof quotaSchema>;
