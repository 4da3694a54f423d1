import { hashText } from './deterministic-hash.ts';

/** Output-format instructions found in a prompt. */
export interface FormatInstructions {
  /** "in exactly N words", "answer in N words", "N words or fewer"… */
  exactWords?: number | undefined;
  /** "uppercase", "all caps", "in capital letters". */
  uppercase: boolean;
  /** "lowercase", "no capital letters". */
  lowercase: boolean;
  /** "only the number", "just the number". */
  numberOnly: boolean;
}

/** Finds format instructions in a prompt. */
export function parseFormatInstructions(prompt: string): FormatInstructions {
  const words = /\b(?:in|with|using|of)?\s*(?:exactly\s+)?(\d{1,3})\s+words?\b/i.exec(prompt);
  return {
    exactWords:
      words && /\bexactly\b|\banswer in\b|\brespond in\b|\breply in\b/i.test(prompt)
        ? Number(words[1])
        : undefined,
    uppercase: /\b(?:upper-?case|all caps|all capitals|capital letters)\b/i.test(prompt),
    lowercase: /\b(?:lower-?case|no capital letters)\b/i.test(prompt),
    numberOnly: /\b(?:only|just) (?:the|a) (?:number|result)\b|\bnothing but the number\b/i.test(prompt),
  };
}

/** Whether any instruction was given. */
export function hasFormatInstructions(instructions: FormatInstructions): boolean {
  return instructions.exactWords !== undefined || instructions.uppercase || instructions.lowercase;
}

/**
 * Applies format instructions to an answer: tier ≥ 3 follows them (exactly N words, padding with
 * `filler` words when the answer is shorter; upper- or lower-case); weaker tiers ignore the case
 * instruction and miss the word count by one to three words.
 */
export function applyFormatInstructions(
  text: string,
  instructions: FormatInstructions,
  tier: number,
  salt: number,
  filler: readonly string[],
): { text: string; followed: boolean } {
  const follows = tier >= 3;
  let result = text;
  if (instructions.exactWords !== undefined) {
    const target = follows
      ? instructions.exactWords
      : instructions.exactWords + 1 + (hashText(salt, 'words') % 3);
    result = toWordCount(text, Math.max(1, target), filler);
  }
  if (follows && instructions.uppercase) result = result.toUpperCase();
  else if (follows && instructions.lowercase) result = result.toLowerCase();
  return { text: result, followed: follows };
}

function toWordCount(text: string, count: number, filler: readonly string[]): string {
  const words = text
    .replace(/[.!?]+$/, '')
    .split(/\s+/)
    .filter(Boolean);
  const pool = filler.length > 0 ? filler : ['indeed'];
  for (let i = 0; words.length < count; i++) words.push(pool[i % pool.length]!);
  return `${words
    .slice(0, count)
    .join(' ')
    .replace(/[^\p{L}\p{N}]+$/u, '')}.`;
}
