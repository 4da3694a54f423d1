import { describe, expect, it } from 'vitest';
import { resolveCapabilityTier, tierFromModelName } from './capability-tier.ts';

describe('capability tiers', () => {
  it.each([
    ['sim-small', 1],
    ['sim-mini', 1],
    ['sim-medium', 3],
    ['sim-large', 5],
    ['sim-tier4', 4],
    ['sim-t2', 2],
    ['simulated/gpt-large', 5],
    ['sim', undefined],
    ['smallish-model', undefined],
  ])('reads the tier %s encodes', (model, tier) => {
    expect(tierFromModelName(model)).toBe(tier);
  });

  it('lets a profile tier win over the name, and the name over the default tier 3', () => {
    expect(resolveCapabilityTier('sim-small', 5)).toBe(5);
    expect(resolveCapabilityTier('sim-large', 3)).toBe(3);
    expect(resolveCapabilityTier('sim-small', undefined)).toBe(1);
    expect(resolveCapabilityTier('sim-large', undefined)).toBe(5);
    expect(resolveCapabilityTier('sim', undefined)).toBe(3);
  });
});
