import { parseArgs } from 'node:util';
import type { CliCommand } from './cli-command.ts';
import { storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';
import { countLine, renderDiagnostics } from './print-diagnostics.ts';
import { compilePolicySource } from './resolve-policy-source.ts';

/** `switchyard policy check <dir|version> [--format text|json]`: exit 1 when there are errors. */
export const policyCheckCommand: CliCommand = {
  usage: `usage: switchyard policy check <dir|version> [--format text|json]

  <dir|version>    policy folder (every *.yaml in it except *.test.yaml), a single file, or a
                   published version id (see \`switchyard policy versions\`)
  --format FORMAT  text (default) or json
${storeFlagUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { format: { type: 'string', default: 'text' }, ...storeFlagOptions },
    });
    const dir = positionals[0];
    if (!dir) throw new Error('missing policy folder; usage: switchyard policy check <dir>');
    const { files, result } = await compilePolicySource(dir, { flags: values });
    const errors = result.ok ? [] : result.errors;
    if (values.format === 'json') {
      process.stdout.write(
        `${JSON.stringify({ ok: result.ok, policy: result.ok ? result.policy.id : undefined, errors, warnings: result.warnings }, null, 2)}\n`,
      );
      return result.ok ? 0 : 1;
    }
    const all = [...errors, ...result.warnings];
    if (all.length > 0) process.stdout.write(`${renderDiagnostics(all, files)}\n\n`);
    if (result.ok)
      process.stdout.write(
        `✓ ${result.policy.id}: ${files.length} file(s), ${countLine(0, result.warnings.length)}\n`,
      );
    else process.stdout.write(`✗ ${dir}: ${countLine(errors.length, result.warnings.length)}\n`);
    return result.ok ? 0 : 1;
  },
};
