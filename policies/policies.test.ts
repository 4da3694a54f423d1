import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkBadFixture, compilePolicy, runPolicyTests } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';

const root = import.meta.dirname;

/** Every folder under policies/ that holds a policy (a *.yaml other than tests), bad/ excluded. */
function policyFolders(dir: string): string[] {
  const names = readdirSync(dir);
  const here = names.some((n) => /\.ya?ml$/.test(n) && !/\.test\.ya?ml$/.test(n)) ? [dir] : [];
  return [
    ...here,
    ...names
      .filter((n) => n !== 'bad' && statSync(join(dir, n)).isDirectory())
      .flatMap((n) => policyFolders(join(dir, n))),
  ];
}

const read = (path: string) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') });

describe.each(policyFolders(root).map((d) => [relative(root, d)]))('policies/%s', (name) => {
  const dir = join(root, name);
  const files = readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n) && !/\.test\.ya?ml$/.test(n))
    .map((n) => read(join(dir, n)));
  const compiled = compilePolicy(files);

  it('compiles without errors', () => {
    expect(compiled.ok ? [] : compiled.errors).toEqual([]);
  });

  it('passes its policy.test.yaml cases', () => {
    if (!compiled.ok) throw new Error('does not compile');
    const report = runPolicyTests(compiled.policy, read(join(dir, 'policy.test.yaml')));
    expect(report.errors).toEqual([]);
    expect(report.results.length).toBeGreaterThan(0);
    expect(
      report.results.filter((r) => !r.passed).map((r) => ({ name: r.name, mismatches: r.mismatches })),
    ).toEqual([]);
  });

  const badDir = join(dir, 'bad');
  const bad = statSync(badDir, { throwIfNoEntry: false })
    ? readdirSync(badDir).filter((n) => /\.ya?ml$/.test(n))
    : [];
  it.each(bad)('bad/%s fails with the error it declares', (file) => {
    const r = checkBadFixture(read(join(badDir, file)));
    expect(r.problem).toBeUndefined();
    expect(r.passed).toBe(true);
  });
});
