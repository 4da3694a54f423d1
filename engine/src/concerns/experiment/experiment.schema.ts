import { z } from 'zod';

/** Request attributes a sticky assignment can hash on. */
export const stickyKeys = ['tenant', 'key', 'user'] as const;

/** One arm of an A/B experiment. */
export const armSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .describe('arm id, recorded in the ledger'),
  weight: z.number().min(0).describe('share of traffic'),
  target: z.string().describe('logical model this arm routes to'),
});

/** An A/B experiment: weighted arms with sticky assignment. */
export const experimentSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .describe('unique id'),
  description: z.string().optional().describe('what is being compared'),
  stickyBy: z.enum(stickyKeys).default('key').describe('what keeps a caller on one arm'),
  arms: z.array(armSchema).min(2).describe('the arms'),
});

/** A declared experiment. */
export type ExperimentSpec = z.output<typeof experimentSchema>;
