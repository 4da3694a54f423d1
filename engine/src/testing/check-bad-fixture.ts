import type { Diagnostic } from '../errors.ts';
import type { PolicyFile } from '../model/compiled-policy.ts';
import { compilePolicy } from '../pipeline/compile.ts';

/** What a bad fixture declares it must fail with. */
export interface ExpectedError {
  code: string;
  line?: number | undefined;
}

/** The outcome of compiling one deliberately bad policy. */
export interface BadFixtureResult {
  file: string;
  passed: boolean;
  expected: ExpectedError[];
  actual: Diagnostic[];
  /** Why it failed (no declaration, compiled cleanly, or an expected error missing). */
  problem?: string | undefined;
}

/** Reads `# expect: SY_POLICY_CODE [line N]` comment lines from a fixture. */
export function readExpectedErrors(text: string): ExpectedError[] {
  const out: ExpectedError[] = [];
  for (const m of text.matchAll(/^#\s*expect:\s*(SY_POLICY_[A-Z_]+)(?:\s+(?:at\s+)?line\s+(\d+))?\s*$/gm)) {
    out.push({ code: m[1]!, line: m[2] ? Number(m[2]) : undefined });
  }
  return out;
}

/**
 * Compiles a deliberately bad policy and checks it fails with every error it declares in its
 * `# expect:` lines (code, and line when given).
 */
export function checkBadFixture(file: PolicyFile): BadFixtureResult {
  const expected = readExpectedErrors(file.text);
  const r = compilePolicy([file]);
  const actual = r.ok ? [] : r.errors;
  if (expected.length === 0)
    return {
      file: file.path,
      passed: false,
      expected,
      actual,
      problem: 'declares no `# expect: SY_POLICY_… line N` comment',
    };
  if (r.ok) return { file: file.path, passed: false, expected, actual, problem: 'compiled without errors' };
  const missing = expected.filter(
    (e) => !actual.some((a) => a.code === e.code && (e.line === undefined || a.line === e.line)),
  );
  if (missing.length > 0) {
    return {
      file: file.path,
      passed: false,
      expected,
      actual,
      problem: `missing ${missing.map((m) => `${m.code}${m.line ? ` at line ${m.line}` : ''}`).join(', ')}`,
    };
  }
  return { file: file.path, passed: true, expected, actual };
}
