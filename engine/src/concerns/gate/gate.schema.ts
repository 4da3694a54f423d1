import { z } from 'zod';

/** The eval gate a candidate must pass before rollout. */
export const gateSchema = z.strictObject({
  suites: z
    .array(z.string())
    .min(1)
    .default(['regression'])
    .describe('promptfoo suites under `evals/suites/`'),
  minPassRate: z.number().min(0).max(1).default(0.95).describe('candidate pass rate at least this'),
  maxPassRateDrop: z
    .number()
    .min(0)
    .max(1)
    .default(0.02)
    .describe('candidate pass rate at most this below baseline'),
  maxCostRatio: z.number().min(0).default(1.1).describe('candidate cost per request / baseline’s'),
  maxP95LatencyRatio: z.number().min(0).default(1.25).describe('candidate p95 latency / baseline’s'),
});

/** A declared gate. */
export type GateSpec = z.output<typeof gateSchema>;
