import { z } from 'zod';

/** A token-bucket rate limit on requests (rps/rpm) or tokens (tpm). */
export const rateLimitSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/)
      .optional()
      .describe('unique id within the tenant; defaults to `<per>-<unit>`'),
    per: z.enum(['tenant', 'key', 'route', 'model', 'endpoint']).describe('what each bucket is counted for'),
    rps: z.number().positive().optional().describe('requests per second'),
    rpm: z.number().positive().optional().describe('requests per minute'),
    tpm: z.number().positive().optional().describe('tokens per minute'),
    burst: z
      .number()
      .positive()
      .optional()
      .describe('bucket size (default: one second of rps, one minute of rpm/tpm)'),
  })
  .refine((r) => [r.rps, r.rpm, r.tpm].filter((v) => v !== undefined).length === 1, {
    message: 'a rate limit sets exactly one of `rps`, `rpm` or `tpm`',
  });

/** A declared rate limit. */
export type RateLimitSpec = z.output<typeof rateLimitSchema>;
