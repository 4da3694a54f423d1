import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BadFixtureResult,
  checkBadFixture,
  type PolicyTestReport,
  runPolicyTests,
} from '@switchyard/engine';
import { compilePolicyFolder } from '../policy-runtime/load-policy-folder.ts';
import type { CliCommand } from './cli-command.ts';
import { renderDiagnostics } from './print-diagnostics.ts';

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Everything `policy test` found for one folder. */
export interface PolicyFolderTestRun {
  report?: PolicyTestReport | undefined;
  bad: BadFixtureResult[];
  passed: number;
  failed: number;
  output: string;
}

/**
 * Runs a policy folder's `policy.test.yaml` cases and `bad/*.yaml` fixtures and renders the result,
 * with a diff of expected and actual values for each failure.
 */
export async function testPolicyFolder(dir: string): Promise<PolicyFolderTestRun> {
  const out: string[] = [];
  let passed = 0;
  let failed = 0;
  const { files, result } = await compilePolicyFolder(dir);
  let report: PolicyTestReport | undefined;
  if (!result.ok) {
    out.push(`✗ ${dir} does not compile:`, renderDiagnostics(result.errors, files));
    failed++;
  } else {
    const testPath = join(dir, 'policy.test.yaml');
    const text = await readIfExists(testPath);
    if (text === undefined) {
      out.push(`! ${relative(process.cwd(), testPath)} not found: no test cases`);
    } else {
      report = runPolicyTests(result.policy, { path: relative(process.cwd(), testPath), text });
      if (report.errors.length > 0) {
        out.push(
          `✗ ${report.file} is not a valid test file:`,
          renderDiagnostics(report.errors, [{ path: report.file, text }]),
        );
        failed++;
      }
      for (const r of report.results) {
        if (r.passed) {
          passed++;
          out.push(`  ✓ ${r.name}`);
          continue;
        }
        failed++;
        out.push(`  ✗ ${r.name} (${report.file}:${r.line})`);
        for (const m of r.mismatches)
          out.push(
            `      ${m.field}: expected ${show(m.expected)}`,
            `      ${' '.repeat(m.field.length)}  actual   ${show(m.actual)}`,
          );
        out.push(`      reasons: ${r.decision.reasons.map((x) => x.rule).join(', ')}`);
      }
    }
  }
  const bad: BadFixtureResult[] = [];
  const badDir = join(dir, 'bad');
  const names = (await readdir(badDir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
  for (const name of names) {
    const path = relative(process.cwd(), join(badDir, name));
    const r = checkBadFixture({ path, text: await readFile(join(badDir, name), 'utf8') });
    bad.push(r);
    if (r.passed) {
      passed++;
      out.push(`  ✓ ${path} fails with ${r.expected.map((e) => e.code).join(', ')}`);
    } else {
      failed++;
      out.push(`  ✗ ${path}: ${r.problem}`);
      if (r.actual.length > 0)
        out.push(
          `      actual errors:`,
          ...r.actual.map((a) => `        ${a.line}:${a.col} ${a.code} ${a.message}`),
        );
    }
  }
  return { report, bad, passed, failed, output: out.join('\n') };
}

/** `switchyard policy test <dir>…`: exit 1 when any case or fixture fails. */
export const policyTestCommand: CliCommand = {
  usage: `usage: switchyard policy test <dir> [<dir>…] [--format text|json]

  Runs <dir>/policy.test.yaml (request facts + optional snapshot → expected route, target,
  deployment, denial, reasons) and checks that each <dir>/bad/*.yaml fails with the error its
  \`# expect: SY_POLICY_CODE line N\` comments declare.

  --format FORMAT  text (default) or json`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { format: { type: 'string', default: 'text' } },
    });
    if (positionals.length === 0)
      throw new Error('missing policy folder; usage: switchyard policy test <dir>');
    let passed = 0;
    let failed = 0;
    const json: unknown[] = [];
    for (const dir of positionals) {
      const run = await testPolicyFolder(dir);
      passed += run.passed;
      failed += run.failed;
      if (values.format === 'json') {
        json.push({
          dir,
          passed: run.passed,
          failed: run.failed,
          cases: run.report?.results.map((r) => ({
            name: r.name,
            line: r.line,
            passed: r.passed,
            mismatches: r.mismatches,
          })),
          bad: run.bad.map((b) => ({ file: b.file, passed: b.passed, problem: b.problem })),
        });
      } else process.stdout.write(`${dir}\n${run.output}\n`);
    }
    if (values.format === 'json')
      process.stdout.write(`${JSON.stringify({ passed, failed, folders: json }, null, 2)}\n`);
    else
      process.stdout.write(
        `\npolicy tests ${failed === 0 ? 'passed' : 'FAILED'}: ${passed} passed, ${failed} failed\n`,
      );
    return failed === 0 ? 0 : 1;
  },
};
