import { z } from 'zod';
import { envRefPattern } from './secret-ref.ts';

/** A secret: only ever an `${env:NAME}` reference, never a literal. */
export const secretRefSchema = z
  .string()
  .regex(envRefPattern, { message: 'secrets must be an `${env:NAME}` reference, not a literal value' })
  .meta({ description: 'a secret, given only as `${env:NAME}`' });

/** Provider kinds Switchyard has adapters for. */
export const providerTypes = ['openai', 'anthropic', 'gemini', 'openai-compatible', 'simulator'] as const;

/** Latency and failure profile of the built-in simulator. */
export const simulatorProfileSchema = z.strictObject({
  ttftMs: z.number().min(0).default(20).describe('time to first token in milliseconds'),
  tpotMs: z.number().min(0).default(2).describe('time per output token in milliseconds'),
  jitter: z.number().min(0).max(1).default(0.1).describe('relative jitter on both latencies (0–1), seeded'),
  errorRate: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('share of requests answered with an injected error'),
  errorStatus: z.number().int().min(400).max(599).default(503).describe('HTTP status of injected errors'),
  tier: z
    .number()
    .int()
    .min(1)
    .max(5)
    .optional()
    .describe(
      'capability tier 1 (weak) … 5 (strong); defaults to the model name: sim-small 1, sim-medium 3, sim-large 5',
    ),
  seed: z.number().int().default(1).describe('seed for jitter, errors and generated text'),
});

/** One upstream account or endpoint: a provider type plus how to reach and authenticate to it. */
export const providerSchema = z.strictObject({
  type: z.enum(providerTypes).describe('adapter to use'),
  apiKey: secretRefSchema
    .optional()
    .describe('API key, as `${env:NAME}`; required by openai, anthropic, gemini'),
  baseUrl: z.string().min(1).optional().describe('override the API base URL; may contain `${env:NAME}`'),
  headers: z
    .record(z.string(), secretRefSchema.or(z.string()))
    .optional()
    .describe('extra headers sent upstream; secret values must be `${env:NAME}`'),
  organization: z.string().optional().describe('OpenAI organization id'),
  apiVersion: z.string().optional().describe('API version header (anthropic-version for Anthropic)'),
  maxConnections: z.number().int().positive().default(128).describe('connection pool size to this provider'),
  profile: simulatorProfileSchema.optional().describe('simulator only: latency, errors and capability tier'),
});

/** A declared provider. */
export type ProviderSpec = z.output<typeof providerSchema>;
