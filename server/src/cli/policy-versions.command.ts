import { parseArgs } from 'node:util';
import { type CliCommand, UsageError } from './cli-command.ts';
import { openLifecycleStores, storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';

const verdictMark = (pass: boolean | undefined) => (pass === undefined ? '–' : pass ? 'pass' : 'FAIL');

/** `switchyard policy versions`: the published versions, newest first. */
export const policyVersionsCommand: CliCommand = {
  usage: `usage: switchyard policy versions [--name N] [--limit N] [--json]

  Lists published versions, newest first: id, policy, when, gate verdict, commit, message. The
  stable version of each policy is marked with *.

  --name N     only versions of this policy
  --limit N    at most this many (default 50)
  --json       print JSON
${storeFlagUsage}`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        name: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        ...storeFlagOptions,
      },
    });
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a positive integer, got \`${values.limit}\``);
    const stores = await openLifecycleStores(values);
    try {
      const versions = await stores.versions.list({ name: values.name, limit });
      const stable = new Map<string, string | undefined>();
      for (const v of versions)
        if (!stable.has(v.name)) stable.set(v.name, await stores.versions.stableVersion(v.name));
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify(
            versions.map(({ files, verdict, ...v }) => ({
              ...v,
              files: files.map((f) => f.path),
              stable: stable.get(v.name) === v.version,
              verdict: verdict ? { pass: verdict.pass, summary: verdict.summary } : null,
            })),
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      if (versions.length === 0) {
        process.stdout.write('no published versions; publish one with `switchyard policy publish <dir>`\n');
        return 0;
      }
      for (const v of versions)
        process.stdout.write(
          `${[
            `${stable.get(v.name) === v.version ? '*' : ' '} ${v.version}`,
            v.name,
            new Date(v.createdAt).toISOString(),
            `gate:${verdictMark(v.verdict?.pass)}`,
            v.gitCommit?.slice(0, 12) ?? '-',
            v.message ?? '',
          ]
            .join('\t')
            .trimEnd()}\n`,
        );
      return 0;
    } finally {
      await stores.close();
    }
  },
};

/** `switchyard policy show <version>`: one version, its verdict and its files. */
export const policyShowCommand: CliCommand = {
  usage: `usage: switchyard policy show <version> [--json]

  Shows a published version (id, unique prefix or name@version): where it came from, its gate
  verdict, and the text of its files.
${storeFlagUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, ...storeFlagOptions },
    });
    const ref = positionals[0];
    if (!ref) throw new UsageError('missing version; usage: switchyard policy show <version>');
    const stores = await openLifecycleStores(values);
    try {
      const v = await stores.versions.get(ref);
      if (!v) throw new UsageError(`no published version \`${ref}\` (see \`switchyard policy versions\`)`);
      const isStable = (await stores.versions.stableVersion(v.name)) === v.version;
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ ...v, stable: isStable }, null, 2)}\n`);
        return 0;
      }
      const out = [
        `version  ${v.name}@${v.version}${isStable ? ' (stable)' : ''}`,
        `hash     ${v.hash}`,
        `created  ${new Date(v.createdAt).toISOString()}`,
      ];
      if (v.gitCommit) out.push(`commit   ${v.gitCommit}${v.author ? ` by ${v.author}` : ''}`);
      if (v.message) out.push(`message  ${v.message}`);
      out.push(
        `gate     ${v.verdict ? `${v.verdict.pass ? 'passed' : 'FAILED'}: ${v.verdict.summary}` : 'no verdict yet'}`,
      );
      for (const f of v.files) out.push('', `--- ${f.path}`, f.text.trimEnd());
      process.stdout.write(`${out.join('\n')}\n`);
      return 0;
    } finally {
      await stores.close();
    }
  },
};
