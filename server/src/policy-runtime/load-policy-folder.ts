import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type CompileResult, compilePolicy, type PolicyFile } from '@switchyard/engine';

/** Files in a policy folder that are not part of the policy itself. */
function isPolicySource(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name);
}

/**
 * Reads the policy in a folder: every `*.yaml`/`*.yml` directly in it except `*.test.yaml` (the
 * `bad/` fixtures and other subfolders are not read). A path to a single file reads just that file.
 * Paths in diagnostics are relative to the current directory.
 */
export async function loadPolicyFolder(path: string): Promise<PolicyFile[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`policy folder \`${path}\` does not exist`);
  const names = info.isDirectory() ? (await readdir(path)).filter(isPolicySource).sort() : [''];
  const files: PolicyFile[] = [];
  for (const name of names) {
    const full = name ? join(path, name) : path;
    files.push({ path: relative(process.cwd(), full) || full, text: await readFile(full, 'utf8') });
  }
  return files;
}

/**
 * Loads and compiles the policy in a folder, with warnings for `${env:…}` references that are not
 * set in this process's environment.
 */
export async function compilePolicyFolder(
  path: string,
): Promise<{ files: PolicyFile[]; result: CompileResult }> {
  const files = await loadPolicyFolder(path);
  const definedEnv = new Set(Object.keys(process.env).filter((k) => process.env[k] !== ''));
  return { files, result: compilePolicy(files, { definedEnv }) };
}
