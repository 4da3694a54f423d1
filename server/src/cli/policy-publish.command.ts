import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { compilePolicy, type GateVerdict } from '@switchyard/engine';
import { loadPolicyFolder } from '../policy-runtime/load-policy-folder.ts';
import { PolicyNotPublishableError, publishPolicyVersion } from '../policy-runtime/publish-policy-version.ts';
import { type CliCommand, UsageError } from './cli-command.ts';
import { openLifecycleStores, storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';
import { renderDiagnostics } from './print-diagnostics.ts';

const run = promisify(execFile);

/** Where a folder's policy came from in git: the commit (with `-dirty` when it has local changes) and its author. */
export async function gitProvenance(path: string): Promise<{ gitCommit?: string; author?: string }> {
  const cwd = (await stat(path)).isDirectory() ? path : dirname(path);
  const git = async (...args: string[]) => (await run('git', args, { cwd })).stdout.trim();
  try {
    const commit = await git('rev-parse', 'HEAD');
    const author = await git('log', '-1', '--format=%an <%ae>');
    const dirty = (await git('status', '--porcelain', '--', '.')) !== '';
    return { gitCommit: dirty ? `${commit}-dirty` : commit, author };
  } catch {
    // Not a git checkout (or no git): the version simply records no provenance.
    return {};
  }
}

/** Who runs the CLI, for the audit log: `--actor`, `SWITCHYARD_ACTOR`, the login name, else `cli`. */
export function cliActor(flag: string | undefined): string {
  return flag ?? process.env.SWITCHYARD_ACTOR ?? process.env.USER ?? process.env.USERNAME ?? 'cli';
}

async function readVerdict(path: string): Promise<GateVerdict> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`cannot read verdict \`${path}\``);
  });
  const verdict = JSON.parse(text) as GateVerdict;
  if (typeof verdict?.pass !== 'boolean' || !Array.isArray(verdict.suites))
    throw new UsageError(`\`${path}\` is not a verdict written by \`switchyard eval gate\``);
  return verdict;
}

/** `switchyard policy publish <dir>`: records an immutable version of a policy folder. */
export const policyPublishCommand: CliCommand = {
  usage: `usage: switchyard policy publish <dir> [--message M] [--verdict verdict.json] [--json]

  Compiles the folder and records it as an immutable version, named by the content hash of the
  compiled policy (publishing the same meaning again returns the existing version). Records the
  git commit and author when the folder is in a git checkout. The first version of a policy
  becomes its stable version; later ones reach traffic through \`switchyard rollout start\`.

  --message M      why this version exists
  --verdict FILE   attach the verdict.json of an eval gate run on this same policy
  --actor NAME     who publishes, for the audit log (default $SWITCHYARD_ACTOR or $USER)
  --json           print the version as JSON
${storeFlagUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        message: { type: 'string' },
        verdict: { type: 'string' },
        actor: { type: 'string' },
        json: { type: 'boolean' },
        ...storeFlagOptions,
      },
    });
    const dir = positionals[0];
    if (!dir) throw new UsageError('missing policy folder; usage: switchyard policy publish <dir>');
    const files = await loadPolicyFolder(dir);
    const verdict = values.verdict ? await readVerdict(values.verdict) : undefined;
    if (verdict) {
      // Checked before anything is stored: a verdict of another policy must not slip in.
      const compiled = compilePolicy(files);
      if (compiled.ok && !verdict.candidate.startsWith(compiled.policy.id))
        throw new UsageError(`the verdict is for \`${verdict.candidate}\`, not \`${compiled.policy.id}\``);
    }
    const stores = await openLifecycleStores(values);
    try {
      const actor = cliActor(values.actor);
      const nowMs = Date.now();
      let published: Awaited<ReturnType<typeof publishPolicyVersion>>;
      try {
        published = await publishPolicyVersion(stores.versions, files, {
          actor,
          message: values.message,
          ...(await gitProvenance(dir)),
          nowMs,
        });
      } catch (err) {
        if (!(err instanceof PolicyNotPublishableError)) throw err;
        process.stdout.write(
          `${renderDiagnostics(err.errors, files)}\n✗ ${dir} does not compile; nothing published\n`,
        );
        return 1;
      }
      const { version, created } = published;
      const id = `${version.name}@${version.version}`;
      if (verdict) {
        const outcome = await stores.versions.attachVerdict(version.version, verdict, { actor, nowMs });
        if (outcome === 'already' && !values.json)
          process.stdout.write(`! ${id} already has a verdict; kept it\n`);
      }
      const stable = await stores.versions.stableVersion(version.name);
      if (values.json) {
        const stored = await stores.versions.get(version.version);
        process.stdout.write(
          `${JSON.stringify({ ...stored, created, stable: stable === version.version }, null, 2)}\n`,
        );
        return 0;
      }
      process.stdout.write(
        `${created ? '✓ published' : '= already published'} ${id}${stable === version.version ? ' (stable)' : ''}\n` +
          (version.gitCommit
            ? `  commit ${version.gitCommit}${version.author ? ` by ${version.author}` : ''}\n`
            : '') +
          (stable === version.version ? '' : `  roll it out: switchyard rollout start ${version.version}\n`),
      );
      return 0;
    } finally {
      await stores.close();
    }
  },
};
