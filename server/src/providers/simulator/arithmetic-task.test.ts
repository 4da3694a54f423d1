import { describe, expect, it } from 'vitest';
import { solveArithmetic } from './arithmetic-task.ts';

describe('solveArithmetic', () => {
  it.each([
    ['What is 12 + 7?', '19'],
    ['Compute 1000 - 1', '999'],
    ['What is 1234 * 5678?', '7006652'],
    ['calculate 100 divided by 8', '12.5'],
    ['What is 10 / 3?', '3.333333'],
    ['how much is 6 times 7', '42'],
    ['12345678901234567890 + 1 =', '12345678901234567891'],
  ])('computes %s exactly at tier 5', (prompt, correct) => {
    expect(solveArithmetic(prompt, 5, 1)).toMatchObject({ correct, answer: correct, solved: true });
  });

  it.each([
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 4],
    [6, 5],
    [9, 5],
  ])('operands of %i digits need tier %i', (digits, requiredTier) => {
    const operand = '9'.repeat(digits);
    const prompt = `What is ${operand} * 12?`;
    expect(solveArithmetic(prompt, requiredTier, 1)).toMatchObject({ solved: true, requiredTier });
    if (requiredTier > 1) {
      const weak = solveArithmetic(prompt, requiredTier - 1, 1)!;
      expect(weak.solved).toBe(false);
      expect(weak.answer).not.toBe(weak.correct);
      expect(weak.answer).toMatch(/^-?\d+$/);
    }
  });

  it('gets a wrong answer the same way every time, and differently for another salt', () => {
    const answers = [1, 1, 2, 3, 4].map(
      (salt) => solveArithmetic('What is 123456 * 654321?', 1, salt)!.answer,
    );
    expect(answers[0]).toBe(answers[1]);
    expect(new Set(answers).size).toBeGreaterThan(1);
  });

  it('ignores numbers without an arithmetic cue (dates, ids)', () => {
    expect(solveArithmetic('The meeting is on 2024-01-15', 5, 1)).toBeUndefined();
    expect(solveArithmetic('Summarise ticket 4521 - 7', 5, 1)).toBeUndefined();
  });
});
