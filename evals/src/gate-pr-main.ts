/**
 * `npm run gate:pr -- --base <git-ref> [--out <dir>] [--suites-dir <dir>]`: the pull-request policy
 * gate (see `runPrGate`). Prints the report's path and summary; exits 1 when any changed policy
 * folder fails a step, 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { runPrGate } from './gate-pr.ts';

const usage =
  'usage: npm run gate:pr -- --base <git-ref> [--out <dir>] [--suites-dir <dir>] [--policies <dir>]';

async function main(argv: string[]): Promise<number> {
  let values: { base?: string; out?: string; 'suites-dir'?: string; policies?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        base: { type: 'string' },
        out: { type: 'string' },
        'suites-dir': { type: 'string' },
        policies: { type: 'string' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (!values.base) {
    process.stderr.write(`missing --base\n${usage}\n`);
    return 2;
  }
  const result = await runPrGate({
    base: values.base,
    outDir: values.out,
    suitesDir: values['suites-dir'],
    policiesDir: values.policies,
  });
  for (const f of result.folders)
    process.stdout.write(
      `${f.pass ? '✓' : '✗'} ${f.folder} (${f.change})${
        [f.check, f.test, f.gate].some((s) => s && !s.ok)
          ? `: ${[
              ['check', f.check],
              ['test', f.test],
              ['gate', f.gate],
            ]
              .filter(([, s]) => s && !(s as { ok: boolean }).ok)
              .map(([n]) => n)
              .join(', ')} failed`
          : ''
      }\n`,
    );
  process.stdout.write(
    `${result.pass ? 'policy gate passed' : 'policy gate FAILED'}; report: ${result.reportPath}\n`,
  );
  return result.pass ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gate:pr: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
