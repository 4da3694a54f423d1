import type { Capability } from './models.schema.ts';

const bits: Record<Capability, number> = {
  chat: 1,
  tools: 2,
  vision: 4,
  json: 8,
  embedding: 16,
  streaming: 32,
};

/** A capability set as a bit mask, so a request's needs are checked with one `&`. */
export function capabilityBits(caps: readonly Capability[]): number {
  let mask = 0;
  for (const c of caps) mask |= bits[c];
  return mask;
}

/** The capability names in a mask (for messages). */
export function capabilityNames(mask: number): Capability[] {
  return (Object.keys(bits) as Capability[]).filter((c) => (mask & bits[c]) !== 0);
}
