import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { GateVerdict } from '@switchyard/engine';
import {
  compilePolicyFolder,
  renderDiagnostics,
  renderPolicyDiff,
  sampleRequests,
  testPolicyFolder,
} from '@switchyard/server';
import { defaultSuitesDir } from './eval-suite.ts';
import { runGate } from './run-gate.ts';

const run = promisify(execFile);

/** Options of `runPrGate`. */
export interface PrGateOptions {
  /** The git ref the pull request goes into (e.g. `origin/main`). */
  base: string;
  /** The repository's root (default: the current directory). */
  repoDir?: string | undefined;
  /** The policies folder, relative to the root (default `policies`). */
  policiesDir?: string | undefined;
  /** Where `report.md` and `report.json` go (default `.tmp/gate-pr` under the root). */
  outDir?: string | undefined;
  /** Where the eval suites live (default `evals/suites`). */
  suitesDir?: string | undefined;
}

/** Outcome of one step on one policy folder. */
export interface PrGateStep {
  ok: boolean;
  /** Text (check, test) or Markdown (diff, gate) for the report. */
  report: string;
}

/** Everything the gate found for one changed policy folder. */
export interface PrGateFolder {
  /** Relative to the root, `/`-separated. */
  folder: string;
  change: 'added' | 'changed' | 'removed';
  check?: PrGateStep | undefined;
  test?: PrGateStep | undefined;
  diff?: PrGateStep | undefined;
  gate?: (PrGateStep & { verdict?: GateVerdict | undefined }) | undefined;
  pass: boolean;
}

/** The combined result over every changed policy folder. */
export interface PrGateResult {
  pass: boolean;
  base: string;
  mergeBase: string;
  folders: PrGateFolder[];
  markdown: string;
  /** The report files written. */
  reportPath: string;
}

async function git(repo: string, ...args: string[]): Promise<string> {
  try {
    return (await run('git', args, { cwd: repo, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`\`git ${args.join(' ')}\` failed${stderr ? `: ${stderr}` : ''}`);
  }
}

const posix = (p: string) => p.split(sep).join('/');

/** Files under `policiesDir` that differ between the merge base and the working tree (untracked included). */
async function changedPolicyFiles(repo: string, mergeBase: string, policiesDir: string): Promise<string[]> {
  const tracked = await git(repo, 'diff', '--name-only', mergeBase, '--', policiesDir);
  const untracked = await git(repo, 'ls-files', '--others', '--exclude-standard', '--', policiesDir);
  return [...new Set(`${tracked}\n${untracked}`.split('\n').filter(Boolean))];
}

/**
 * The policy folder a changed file belongs to: its nearest folder under `policiesDir` with a
 * `policy.yaml`, now or at the merge base (so `bad/` fixtures and test files count for their
 * policy, and a deleted folder is still found).
 */
async function owningFolder(
  repo: string,
  mergeBase: string,
  policiesDir: string,
  file: string,
): Promise<string | undefined> {
  let dir = dirname(file);
  while (
    dir !== '.' &&
    posix(dir) !== posix(policiesDir) &&
    posix(dir).startsWith(`${posix(policiesDir)}/`)
  ) {
    const path = `${posix(dir)}/policy.yaml`;
    if (existsSync(join(repo, path))) return posix(dir);
    const atBase = await git(repo, 'cat-file', '-e', `${mergeBase}:${path}`).then(
      () => true,
      () => false,
    );
    if (atBase) return posix(dir);
    dir = dirname(dir);
  }
  return undefined;
}

/** Writes a folder as it was at `ref` under `into`; false when it did not exist there. */
async function materialise(repo: string, ref: string, folder: string, into: string): Promise<boolean> {
  const files = (await git(repo, 'ls-tree', '-r', '--name-only', ref, '--', folder))
    .split('\n')
    .filter(Boolean);
  if (files.length === 0) return false;
  for (const file of files) {
    const target = join(into, file);
    await mkdir(dirname(target), { recursive: true });
    const { stdout } = await run('git', ['show', `${ref}:${file}`], {
      cwd: repo,
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    await writeFile(target, stdout);
  }
  return true;
}

const fence = (text: string) => `\`\`\`text\n${text.trimEnd()}\n\`\`\``;
const mark = (step: PrGateStep | undefined) => (step === undefined ? '—' : step.ok ? '✅' : '❌');

async function judgeFolder(
  repo: string,
  folder: string,
  basePath: string | undefined,
  baselinePath: string | undefined,
  suitesDir: string,
): Promise<PrGateFolder> {
  const here = join(repo, folder);
  if (!existsSync(join(here, 'policy.yaml'))) return { folder, change: 'removed', pass: true };
  const result: PrGateFolder = { folder, change: basePath ? 'changed' : 'added', pass: false };
  const { files, result: compiled } = await compilePolicyFolder(here);
  result.check = compiled.ok
    ? { ok: true, report: `✓ ${compiled.policy.id}: ${files.length} file(s)` }
    : { ok: false, report: renderDiagnostics(compiled.errors, files) };
  const tests = await testPolicyFolder(here);
  result.test = {
    ok: tests.failed === 0,
    report: `${tests.output}\n${tests.passed} passed, ${tests.failed} failed`,
  };
  if (compiled.ok && basePath) {
    const before = await compilePolicyFolder(basePath);
    result.diff = before.result.ok
      ? {
          ok: true,
          report: renderPolicyDiff({
            before: before.result.policy,
            after: compiled.policy,
            samples: await sampleRequests(undefined, [basePath, here]),
            nowMs: Date.now(),
            format: 'markdown',
          }),
        }
      : { ok: true, report: 'the base version does not compile; nothing to diff against' };
  }
  if (compiled.ok && baselinePath) {
    try {
      const baseline = await compilePolicyFolder(baselinePath);
      if (!baseline.result.ok) throw new Error(`the baseline \`${baselinePath}\` does not compile`);
      const { verdict, markdown } = await runGate({
        candidate: { files, label: folder },
        baseline: { files: baseline.files, label: `${basePath ? folder : 'policies/default'} at base` },
        suitesDir,
      });
      result.gate = { ok: verdict.pass, report: markdown, verdict };
    } catch (err) {
      result.gate = { ok: false, report: `the eval gate could not run: ${(err as Error).message}` };
    }
  }
  result.pass = [result.check, result.test, result.diff, result.gate].every((s) => s === undefined || s.ok);
  return result;
}

function renderReport(r: Omit<PrGateResult, 'markdown' | 'reportPath'>): string {
  const out = [
    `## ${r.pass ? '✅' : '❌'} Switchyard policy gate`,
    '',
    r.folders.length === 0
      ? `No policy folder changed since \`${r.base}\`.`
      : `${r.folders.length} policy folder(s) changed since \`${r.base}\` (merge base \`${r.mergeBase.slice(0, 12)}\`).`,
    '',
  ];
  if (r.folders.length > 0) {
    out.push('| folder | change | check | test | diff | eval gate |', '|---|---|---|---|---|---|');
    for (const f of r.folders)
      out.push(
        `| \`${f.folder}\` | ${f.change} | ${mark(f.check)} | ${mark(f.test)} | ${f.diff ? '📝' : '—'} | ${mark(f.gate)} |`,
      );
    out.push('');
  }
  for (const f of r.folders) {
    out.push(
      `<details${f.pass ? '' : ' open'}><summary><b>${f.pass ? '✅' : '❌'} ${f.folder}</b> (${f.change})</summary>`,
      '',
    );
    if (f.change === 'removed') out.push('The policy folder was removed.', '');
    if (f.check) out.push(`#### ${mark(f.check)} policy check`, '', fence(f.check.report), '');
    if (f.test) out.push(`#### ${mark(f.test)} policy test`, '', fence(f.test.report), '');
    if (f.diff) out.push(f.diff.report.replace(/^### /, '#### '), '');
    if (f.gate) out.push(f.gate.report.replace(/^## /, '#### ').replace(/^### /gm, '##### '), '');
    out.push('</details>', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * What CI runs on a pull request that touches policies: for each policy folder changed since the
 * merge base with `base` (committed, staged, unstaged or untracked), `policy check`, `policy test`,
 * `policy diff` against the folder as it was at the merge base, and the eval gate against that
 * version (a new folder is judged against `policies/default` at the merge base). The base is
 * materialised with `git ls-tree`/`git show` into a temporary folder; nothing in the repository
 * changes. Writes one Markdown report (`report.md`, fit for a PR comment) and `report.json`.
 */
export async function runPrGate(options: PrGateOptions): Promise<PrGateResult> {
  const repo = resolve(options.repoDir ?? process.cwd());
  const policiesDir = options.policiesDir ?? 'policies';
  const outDir = resolve(repo, options.outDir ?? '.tmp/gate-pr');
  await git(repo, 'rev-parse', '--verify', `${options.base}^{commit}`);
  const mergeBase = (await git(repo, 'merge-base', options.base, 'HEAD')).trim();
  const changed = await changedPolicyFiles(repo, mergeBase, policiesDir);
  const folders = new Set<string>();
  for (const file of changed) {
    const folder = await owningFolder(repo, mergeBase, policiesDir, file);
    if (folder) folders.add(folder);
  }
  const scratch = await mkdtemp(join(tmpdir(), 'sy-gate-pr-'));
  const results: PrGateFolder[] = [];
  try {
    const defaultAtBase = (await materialise(repo, mergeBase, `${posix(policiesDir)}/default`, scratch))
      ? join(scratch, posix(policiesDir), 'default')
      : undefined;
    for (const folder of [...folders].sort()) {
      const basePath = (await materialise(repo, mergeBase, folder, scratch))
        ? join(scratch, folder)
        : undefined;
      results.push(
        await judgeFolder(
          repo,
          folder,
          basePath,
          basePath ?? defaultAtBase,
          options.suitesDir ?? defaultSuitesDir,
        ),
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const summary = { pass: results.every((f) => f.pass), base: options.base, mergeBase, folders: results };
  const markdown = renderReport(summary);
  await mkdir(outDir, { recursive: true });
  const reportPath = join(outDir, 'report.md');
  await writeFile(reportPath, markdown);
  await writeFile(join(outDir, 'report.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return { ...summary, markdown, reportPath: relative(process.cwd(), reportPath) || reportPath };
}
