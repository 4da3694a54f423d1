/** The tier of a simulated model whose profile and name say nothing. */
const defaultTier = 3;

const namedTiers: [RegExp, number][] = [
  [/(?:^|[-_/.])(?:tier|t)-?([1-5])(?:$|[-_/.])/i, 0],
  [/(?:^|[-_/.])(?:small|mini|tiny)(?:$|[-_/.])/i, 1],
  [/(?:^|[-_/.])medium(?:$|[-_/.])/i, 3],
  [/(?:^|[-_/.])(?:large|big)(?:$|[-_/.])/i, 5],
];

/** The tier a model name encodes (`sim-small` 1, `sim-medium` 3, `sim-large` 5, `sim-tier4`/`sim-t4` 4), if any. */
export function tierFromModelName(model: string): number | undefined {
  for (const [pattern, tier] of namedTiers) {
    const match = pattern.exec(model);
    if (match) return tier === 0 ? Number(match[1]) : tier;
  }
  return undefined;
}

/**
 * The capability tier (1 weak … 5 strong) a simulated model answers with: the profile's `tier` when
 * the policy sets one, else the tier the model name encodes, else 3.
 */
export function resolveCapabilityTier(model: string, profileTier: number | undefined): number {
  return profileTier ?? tierFromModelName(model) ?? defaultTier;
}
