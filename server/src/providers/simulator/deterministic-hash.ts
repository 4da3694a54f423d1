/**
 * Hashes strings and numbers to an unsigned 32-bit integer (FNV-1a, then a murmur3 finaliser for
 * avalanche). Everything the simulator derives from a request goes through it, so the same
 * request, model and seed always produce the same answer.
 */
export function hashText(...parts: readonly (string | number)[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? `#${part}` : part;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    // A separator, so ('ab', 'c') and ('a', 'bc') differ.
    hash ^= 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** A hash scaled to [0, 1). */
export function hashUnit(...parts: readonly (string | number)[]): number {
  return hashText(...parts) / 2 ** 32;
}
