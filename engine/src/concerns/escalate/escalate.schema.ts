import { z } from 'zod';

/** Outcomes that move a request to the next model in its escalation chain. */
export const escalationTriggers = [
  'error',
  'timeout',
  'length',
  'refusal',
  'lowConfidence',
  'invalidJson',
] as const;

/** An escalation trigger. */
export type EscalationTrigger = (typeof escalationTriggers)[number];

/** One hop of an escalation chain. */
export const escalationStepSchema = z.strictObject({
  to: z.string().describe('logical model to escalate to'),
  on: z.array(z.enum(escalationTriggers)).min(1).describe('outcomes that trigger this hop'),
  minLogprob: z
    .number()
    .max(0)
    .optional()
    .describe('lowConfidence: mean token logprob below this counts as low confidence (default -1.0)'),
});

/** An escalation chain: hops tried in order, at most `maxHops` of them per request. */
export const escalationSchema = z.union([
  z.array(escalationStepSchema).min(1),
  z.strictObject({
    steps: z.array(escalationStepSchema).min(1).describe('hops in order'),
    maxHops: z.number().int().min(1).optional().describe('hops allowed per request (default: all steps)'),
  }),
]);
