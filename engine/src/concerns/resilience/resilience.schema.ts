import { z } from 'zod';

/** Upstream timeouts; each ends the upstream call and is reported as a 504. */
export const timeoutsSchema = z.strictObject({
  connectMs: z.number().int().positive().default(2000).describe('TCP + TLS connect'),
  firstTokenMs: z
    .number()
    .int()
    .positive()
    .default(15_000)
    .describe('until response headers / first streamed token'),
  idleMs: z.number().int().positive().default(30_000).describe('between two streamed chunks'),
  totalMs: z.number().int().positive().default(120_000).describe('whole upstream call'),
});

/** Retry policy for retryable outcomes, before the first byte reaches the client. */
export const retrySchema = z.strictObject({
  attempts: z.number().int().min(0).max(10).default(2).describe('retries after the first try'),
  on: z
    .array(z.union([z.number().int().min(400).max(599), z.enum(['connect', 'timeout', 'bodyError'])]))
    .default([429, 500, 502, 503, 504, 'connect'])
    .describe('statuses and failure kinds that are retried'),
  backoffMs: z.number().int().min(0).default(100).describe('base of the exponential backoff (jittered)'),
  maxBackoffMs: z.number().int().min(0).default(2000).describe('backoff cap'),
  budgetRatio: z
    .number()
    .min(0)
    .max(1)
    .default(0.2)
    .describe('retries at most this share of recent requests'),
});

/** Circuit breaker per deployment. */
export const breakerSchema = z.strictObject({
  failureRatio: z.number().min(0).max(1).default(0.5).describe('failure share that opens the breaker'),
  minRequests: z.number().int().min(1).default(20).describe('requests in the window before it may open'),
  windowMs: z.number().int().positive().default(30_000).describe('sliding window'),
  openMs: z.number().int().positive().default(30_000).describe('time open before a half-open probe'),
});

/** Bounded concurrency and queue per deployment. */
export const queueSchema = z.strictObject({
  maxConcurrent: z
    .number()
    .int()
    .positive()
    .default(256)
    .describe('concurrent upstream calls per deployment'),
  maxQueued: z.number().int().min(0).default(512).describe('requests waiting beyond that'),
  maxWaitMs: z.number().int().min(0).default(2000).describe('longest wait in the queue'),
});

/** Resilience settings; every section is optional and defaults as documented. */
export const resilienceSettingsSchema = z.strictObject({
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})).describe('upstream timeouts'),
  retry: retrySchema.default(retrySchema.parse({})).describe('retry policy'),
  breaker: breakerSchema.default(breakerSchema.parse({})).describe('circuit breaker'),
  queue: queueSchema.default(queueSchema.parse({})).describe('concurrency and queue'),
});

/**
 * The same section with every field optional and no defaults: an override names only what it
 * changes, and the rest comes from the global settings (not from the schema's defaults).
 */
function overrideOf<S extends z.ZodRawShape>(section: z.ZodObject<S>) {
  const shape = Object.fromEntries(
    Object.entries(section.shape).map(([k, v]) => {
      const field = v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType);
      return [k, field.optional().describe((v as z.ZodType).description ?? k)];
    }),
  );
  return z.strictObject(shape);
}

/** Partial resilience settings that override the global ones for one logical model. */
export const resilienceOverrideSchema = z.strictObject({
  timeouts: overrideOf(timeoutsSchema).optional().describe('timeouts for this model'),
  retry: overrideOf(retrySchema).optional().describe('retry policy for this model'),
  breaker: overrideOf(breakerSchema).optional().describe('circuit breaker for this model'),
  queue: overrideOf(queueSchema).optional().describe('concurrency and queue for this model'),
});

/** Global resilience settings plus per-model overrides. */
export const resilienceSchema = resilienceSettingsSchema.extend({
  overrides: z
    .record(z.string(), resilienceOverrideSchema)
    .default({})
    .describe('per logical model: sections that replace the global values field by field'),
});

/** Resolved resilience settings for one request. */
export type ResilienceSettings = z.output<typeof resilienceSettingsSchema>;
