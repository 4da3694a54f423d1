/** Estimates tokens the way the simulator bills them: about four characters per token, at least one. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Splits text into the pieces the simulator streams and scores: a word (with its leading
 * whitespace) or a single punctuation mark, close enough to how real tokenizers cut text.
 */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}_'’]+|\s*[^\s\p{L}\p{N}_'’]|\s+$/gu) ?? [];
}
