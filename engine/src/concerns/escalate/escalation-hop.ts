import type { Charge, Deployment, EscalationHop } from '../../model/decision.ts';
import { chargesForHop } from '../quota/quota.decide.ts';
import type { EscalationTrigger } from './escalate.schema.ts';

/**
 * An escalation hop of a plan. Its reservations are built on first read: most requests never
 * escalate, so the plan carries what the hop needs to build them rather than the copies.
 */
export class PlannedHop implements EscalationHop {
  readonly to: string;
  readonly on: readonly EscalationTrigger[];
  readonly minLogprob: number;
  readonly candidates: readonly Deployment[];
  private readonly baseCharges: readonly Charge[];
  private readonly inputTokens: number;
  private readonly outputTokens: number;
  #charges: Charge[] | undefined;

  constructor(
    to: string,
    on: readonly EscalationTrigger[],
    minLogprob: number,
    candidates: readonly Deployment[],
    baseCharges: readonly Charge[],
    inputTokens: number,
    outputTokens: number,
  ) {
    this.to = to;
    this.on = on;
    this.minLogprob = minLogprob;
    this.candidates = candidates;
    this.baseCharges = baseCharges;
    this.inputTokens = inputTokens;
    this.outputTokens = outputTokens;
  }

  /** The hop's reservations: the plan's quota keys with amounts bounded by this hop's model. */
  get charges(): readonly Charge[] {
    this.#charges ??= chargesForHop(this.baseCharges, this.candidates, this.inputTokens, this.outputTokens);
    return this.#charges;
  }

  /** The hop as plain data (explain output, logs). */
  toJSON(): EscalationHop {
    return {
      to: this.to,
      on: this.on,
      minLogprob: this.minLogprob,
      candidates: this.candidates,
      charges: this.charges,
    };
  }
}
