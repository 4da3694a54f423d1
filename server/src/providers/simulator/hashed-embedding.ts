import { hashText } from './deterministic-hash.ts';

/** Dimensions of a simulated embedding when the request names none. */
export const defaultEmbeddingDimensions = 256;

/**
 * Embeds text as a signed, hashed bag of its lower-cased words plus their character trigrams,
 * L2-normalised. Texts sharing most words and spellings land close (near-duplicates > 0.9 cosine);
 * texts sharing none land near orthogonal. Token-id input is embedded as its ids.
 */
export function embedText(
  input: string | readonly number[],
  dimensions = defaultEmbeddingDimensions,
): number[] {
  const vector = new Float64Array(dimensions);
  const add = (feature: string, weight: number) => {
    const hash = hashText(feature);
    vector[hash % dimensions]! += hash & 0x80000000 ? -weight : weight;
  };
  const words =
    typeof input === 'string' ? (input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) : input.map(String);
  for (const word of words) {
    add(`w:${word}`, 1);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.5);
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  return Array.from(vector, (value) => (norm === 0 ? 0 : value / norm));
}

/** An embedding as OpenAI's `encoding_format: base64` sends it: little-endian float32s, base64. */
export function embeddingToBase64(embedding: readonly number[]): string {
  const bytes = Buffer.alloc(embedding.length * 4);
  for (const [index, value] of embedding.entries()) bytes.writeFloatLE(value, index * 4);
  return bytes.toString('base64');
}

/** Cosine similarity of two vectors of the same length. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
