import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the system's CSPRNG at a time; ids are cut from them until they run out. */
const poolBytes = 4096;
const pool = Buffer.allocUnsafe(poolBytes);
let offset = poolBytes;

/**
 * `bytes` cryptographically random bytes as lowercase hex, cut from a pooled buffer refilled with
 * `randomFillSync` when used up: one system call per few hundred ids instead of one per id (request
 * ids, trace and span ids are drawn several times per request). For identifiers, not for secrets
 * that must never share a buffer with anything else (API keys draw their own bytes).
 */
export function randomHex(bytes: number): string {
  if (bytes > poolBytes) return randomFillSync(Buffer.allocUnsafe(bytes)).toString('hex');
  if (offset + bytes > poolBytes) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
