import { z } from 'zod';

/** Request facts as a test case writes them: everything optional, filled from defaults. */
export const testFactsSchema = z.strictObject({
  endpoint: z.enum(['chat', 'embeddings', 'messages']).optional(),
  model: z.string().optional(),
  tenant: z.string().optional(),
  keyId: z.string().optional(),
  user: z.string().optional(),
  tags: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  hasTools: z.boolean().optional(),
  hasImages: z.boolean().optional(),
  inputTokens: z.number().int().min(0).optional(),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  topP: z.number().optional(),
  messageCount: z.number().int().min(0).optional(),
  responseFormat: z.enum(['text', 'json_object', 'json_schema']).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/**
 * State a test case starts from. Quota and limit entries may be keyed by their id (`daily-budget`)
 * instead of the full store key; bucket levels are the tokens left now.
 */
export const testSnapshotSchema = z.strictObject({
  breakers: z
    .record(z.string(), z.enum(['closed', 'open', 'half_open']))
    .optional()
    .describe('breaker state per deployment id'),
  quotaUsed: z
    .record(z.string(), z.number().min(0))
    .optional()
    .describe('used amount per quota id or charge key'),
  buckets: z
    .record(z.string(), z.number().min(0))
    .optional()
    .describe('tokens left per rate-limit id or key'),
});

/** What a case expects; only the fields given are compared. */
export const testExpectSchema = z.strictObject({
  route: z.string().optional().describe('route id (or `model:<name>` for a direct request)'),
  target: z.string().optional().describe('logical model'),
  deployment: z.string().optional().describe('first candidate deployment id'),
  candidates: z.array(z.string()).optional().describe('all candidate deployment ids in order'),
  escalation: z.array(z.string()).optional().describe('escalation hop models in order'),
  cache: z.string().nullable().optional().describe('cache rule id, or null for none'),
  arm: z.string().optional().describe('experiment arm id'),
  denial: z.string().optional().describe('denial code, e.g. `model_not_allowed`'),
  status: z.number().int().optional().describe('denial status'),
  reasons: z
    .array(z.string())
    .optional()
    .describe('rule ids that must appear among the reasons, in this order'),
});

/** A `policy.test.yaml` file. */
export const policyTestFileSchema = z.strictObject({
  defaults: testFactsSchema.optional().describe('facts every case starts from'),
  now: z.string().optional().describe('ISO time the cases run at (default 2026-01-01T12:00:00Z)'),
  seed: z.number().int().optional().describe('seed of the weighted pick (default 1)'),
  cases: z
    .array(
      z.strictObject({
        name: z.string().describe('what behaviour the case protects'),
        request: testFactsSchema.default({}),
        snapshot: testSnapshotSchema.optional(),
        seed: z.number().int().optional(),
        expect: testExpectSchema,
      }),
    )
    .min(1),
});

/** A parsed `policy.test.yaml`. */
export type PolicyTestFile = z.output<typeof policyTestFileSchema>;
/** One parsed test case. */
export type PolicyTestCase = PolicyTestFile['cases'][number];
