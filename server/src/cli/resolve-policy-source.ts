import { stat } from 'node:fs/promises';
import { type CompileResult, compilePolicy, type PolicyFile } from '@switchyard/engine';
import { loadPolicyFolder } from '../policy-runtime/load-policy-folder.ts';
import { type PolicyVersion, parseVersionRef } from '../stores/policy-version-store.ts';
import { type LifecycleStores, openLifecycleStores, type StoreFlags } from './open-lifecycle-stores.ts';

/** A policy named on the command line: a folder, a file, or a published version. */
export interface PolicySource {
  files: PolicyFile[];
  /** What to call it in output: the path, or `name@version`. */
  label: string;
  /** The folder or file, when it was one (its `policy.test.yaml` can supply sample requests). */
  path?: string | undefined;
  /** The published version, when it was one. */
  version?: PolicyVersion | undefined;
}

/** How a resolver reaches the store: opened on first need, so folders never touch it. */
export interface PolicySourceContext {
  flags?: StoreFlags | undefined;
  /** An open store to use instead of opening one from `flags`. */
  stores?: LifecycleStores | undefined;
}

/**
 * Resolves a command-line argument to policy files: an existing folder or file is read from disk
 * (a folder wins over a version id that happens to look the same); otherwise a version id, a
 * unique prefix of one (≥ 4 hex digits) or `name@version` is read from the store. A version's
 * files are shown as `name@version/<file>` in diagnostics.
 */
export async function resolvePolicySource(
  arg: string,
  context: PolicySourceContext = {},
): Promise<PolicySource> {
  if (await stat(arg).catch(() => undefined))
    return { files: await loadPolicyFolder(arg), label: arg, path: arg };
  if (!parseVersionRef(arg))
    throw new Error(`\`${arg}\` is neither a policy folder, a policy file nor a published version id`);
  const stores = context.stores ?? (await openLifecycleStores(context.flags ?? {}));
  try {
    const version = await stores.versions.get(arg);
    if (!version)
      throw new Error(
        `no policy folder or published version \`${arg}\` (see \`switchyard policy versions\`)`,
      );
    const label = `${version.name}@${version.version}`;
    return {
      files: version.files.map((f) => ({ path: `${label}/${f.path}`, text: f.text })),
      label,
      version,
    };
  } finally {
    if (!context.stores) await stores.close();
  }
}

/**
 * Resolves and compiles a policy source, with warnings for `${env:…}` references that are not set
 * in this process's environment (as `compilePolicyFolder` does for folders).
 */
export async function compilePolicySource(
  arg: string,
  context: PolicySourceContext = {},
): Promise<PolicySource & { result: CompileResult }> {
  const source = await resolvePolicySource(arg, context);
  const definedEnv = new Set(Object.keys(process.env).filter((k) => process.env[k] !== ''));
  return { ...source, result: compilePolicy(source.files, { definedEnv }) };
}
