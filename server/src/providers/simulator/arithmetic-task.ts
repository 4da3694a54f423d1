import { hashText } from './deterministic-hash.ts';

/** How the simulator answered an arithmetic question. */
export interface ArithmeticAnswer {
  /** The exact result, as a decimal string. */
  correct: string;
  /** What the model answers: `correct`, or a deterministic wrong number when the tier is too low. */
  answer: string;
  solved: boolean;
  /** The tier needed: digits of the largest operand − 1, clamped to 1…5. */
  requiredTier: number;
  /** The expression as found, e.g. `1234 * 5678`. */
  expression: string;
}

const cue = /\b(?:what is|what's|compute|calculate|evaluate|solve|how much is)\b|=/i;
const expression = /(\d+)\s*(\+|-|\*|×|x|\/|÷|plus|minus|times|multiplied by|divided by)\s*(\d+)/i;
const operators: Record<string, '+' | '-' | '*' | '/'> = {
  '+': '+',
  plus: '+',
  '-': '-',
  minus: '-',
  '*': '*',
  '×': '*',
  x: '*',
  times: '*',
  'multiplied by': '*',
  '/': '/',
  '÷': '/',
  'divided by': '/',
};

/**
 * Answers a question like "What is 1234 * 5678?" or "Compute 12 + 7" (non-negative integer
 * operands, one binary operation, and a cue such as "what is"/"compute"/"="). A model solves it when
 * its tier is at least the number of digits of the largest operand minus one (capped at 5, so tier
 * 5 always solves); otherwise it answers a wrong number derived from the question.
 */
export function solveArithmetic(prompt: string, tier: number, salt: number): ArithmeticAnswer | undefined {
  if (!cue.test(prompt)) return undefined;
  const match = expression.exec(prompt);
  if (!match) return undefined;
  const [whole, left = '0', word = '+', right = '0'] = match;
  const operator = operators[word.toLowerCase()] ?? '+';
  const digits = Math.max(left.replace(/^0+(?=\d)/, '').length, right.replace(/^0+(?=\d)/, '').length);
  const requiredTier = Math.min(5, Math.max(1, digits - 1));
  const correct = compute(BigInt(left), operator, BigInt(right));
  const solved = tier >= requiredTier;
  return {
    correct,
    answer: solved ? correct : corrupt(correct, hashText(salt, whole)),
    solved,
    requiredTier,
    expression: whole.trim(),
  };
}

function compute(a: bigint, operator: '+' | '-' | '*' | '/', b: bigint): string {
  if (operator === '+') return String(a + b);
  if (operator === '-') return String(a - b);
  if (operator === '*') return String(a * b);
  if (b === 0n) return 'undefined';
  const whole = a / b;
  let remainder = a % b;
  if (remainder === 0n) return String(whole);
  let decimals = '';
  for (let i = 0; i < 6 && remainder !== 0n; i++) {
    remainder *= 10n;
    decimals += String(remainder / b);
    remainder %= b;
  }
  return `${whole}.${decimals.replace(/0+$/, '')}`;
}

/** A plausible wrong answer: one digit off somewhere, never equal to the right one. */
function corrupt(correct: string, hash: number): string {
  if (!/^-?\d+$/.test(correct)) return correct === 'undefined' ? '0' : `${correct}1`;
  const value = BigInt(correct);
  const digitCount = correct.replace('-', '').length;
  const place = 10n ** BigInt(hash % Math.max(1, digitCount - 1));
  const delta = BigInt(1 + ((hash >>> 8) % 9)) * place;
  return String((hash >>> 16) % 2 === 0 ? value + delta : value - delta);
}
