import { z } from 'zod';
import { stickyKeys } from '../experiment/experiment.schema.ts';

/** How a candidate version is rolled out: canary steps, stickiness, hold time and abort thresholds. */
export const rolloutSchema = z.strictObject({
  shadow: z.boolean().default(false).describe('begin with a shadow step: candidate decides, stable serves'),
  steps: z
    .array(z.number().min(0).max(100))
    .min(1)
    .default([1, 5, 25, 100])
    .describe('traffic percentages, increasing, ending at 100'),
  stickyBy: z.enum(stickyKeys).default('key').describe('what keeps a caller on one version'),
  holdMinutes: z.number().min(0).default(10).describe('time each step is held before moving on'),
  minRequests: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('candidate requests a step needs before it can pass'),
  abortIf: z
    .strictObject({
      errorRateDelta: z.number().min(0).default(0.01).describe('candidate error rate minus stable’s'),
      p95LatencyRatio: z.number().min(0).default(1.2).describe('candidate p95 / stable p95'),
      costRatio: z.number().min(0).default(1.15).describe('candidate cost per request / stable’s'),
      escalationRateDelta: z
        .number()
        .min(0)
        .default(0.05)
        .describe('candidate escalation rate minus stable’s'),
      rerouteShare: z
        .number()
        .min(0)
        .max(1)
        .default(1)
        .describe('shadow: share of requests routed differently'),
      newDenialShare: z
        .number()
        .min(0)
        .max(1)
        .default(0.01)
        .describe('shadow: share of requests newly denied'),
    })
    .default({
      errorRateDelta: 0.01,
      p95LatencyRatio: 1.2,
      costRatio: 1.15,
      escalationRateDelta: 0.05,
      rerouteShare: 1,
      newDenialShare: 0.01,
    })
    .describe('thresholds that roll the candidate back'),
});

/** A declared rollout plan. */
export type RolloutSpec = z.output<typeof rolloutSchema>;
