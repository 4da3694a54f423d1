import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const forbidden: [RegExp, string][] = [
  [/\bDate\.now\(/, 'the clock (use env.nowMs)'],
  [/\bnew Date\(\)/, 'the clock (use env.nowMs)'],
  [/\bperformance\.now\(/, 'the clock'],
  [/\bMath\.random\(/, 'randomness (use env.random)'],
  [/\bcrypto\./, 'host crypto'],
  [/from ['"]node:/, 'a Node API'],
  [/\brequire\(/, 'require'],
  [/\bprocess\./, 'the process'],
  [/\b(fetch|setTimeout|setInterval)\(/, 'I/O or timers'],
  [/from ['"]\.\.\/\.\.\/\.\.\/(server|studio|bench|evals)/, 'another workspace'],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('engine purity', () => {
  it('uses no I/O, clock, randomness or Node API outside tests', () => {
    const offences: string[] = [];
    for (const file of sources(import.meta.dirname)) {
      const text = readFileSync(file, 'utf8');
      for (const [re, what] of forbidden) if (re.test(text)) offences.push(`${file}: ${what}`);
    }
    expect(offences).toEqual([]);
  });
});
