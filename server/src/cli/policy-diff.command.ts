import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CompiledPolicy,
  decisionImpact,
  diffPolicies,
  factsWithDefaults,
  type PolicyChange,
  type RequestFacts,
  readTestCaseFacts,
  seededEnv,
  testFactsSchema,
} from '@switchyard/engine';
import type { CliCommand } from './cli-command.ts';
import { type StoreFlags, storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';
import { renderDiagnostics } from './print-diagnostics.ts';
import { compilePolicySource } from './resolve-policy-source.ts';

const brief = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

function renderChange(c: PolicyChange): string {
  if (c.kind === 'added') return `+ ${c.path} = ${brief(c.after)}`;
  if (c.kind === 'removed') return `- ${c.path} (was ${brief(c.before)})`;
  if (c.kind === 'moved') return `~ ${c.path}: ${brief(c.before)} → ${brief(c.after)}`;
  return `~ ${c.path}: ${brief(c.before)} → ${brief(c.after)}`;
}

async function compileOrExplain(
  ref: string,
  flags: StoreFlags,
): Promise<{ policy: CompiledPolicy; path?: string | undefined }> {
  const { files, result, path } = await compilePolicySource(ref, { flags });
  if (!result.ok) throw new Error(`\`${ref}\` does not compile:\n${renderDiagnostics(result.errors, files)}`);
  return { policy: result.policy, path };
}

/** Sample requests: a JSONL file of request facts, or else the test cases of the policy folders given. */
export async function sampleRequests(
  requestsPath: string | undefined,
  dirs: string[],
): Promise<RequestFacts[]> {
  if (requestsPath) {
    const text = await readFile(requestsPath, 'utf8').catch(() => {
      throw new Error(`cannot read \`${requestsPath}\``);
    });
    return text
      .split('\n')
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line !== '')
      .map(([line, n]) => {
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          throw new Error(`${requestsPath}:${n}: not a JSON object`);
        }
        const r = testFactsSchema.safeParse(json);
        if (!r.success)
          throw new Error(
            `${requestsPath}:${n}: ${r.error.issues.map((i) => `\`${i.path.join('.')}\` ${i.message.toLowerCase()}`).join('; ')}`,
          );
        return factsWithDefaults(r.data);
      });
  }
  const seen = new Set<string>();
  const out: RequestFacts[] = [];
  for (const dir of dirs) {
    const path = join(dir, 'policy.test.yaml');
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const f of readTestCaseFacts({ path, text })) {
      const key = JSON.stringify(f);
      if (!seen.has(key)) out.push(f);
      seen.add(key);
    }
  }
  return out;
}

function describeFacts(f: RequestFacts): string {
  const parts = [`${f.endpoint} model=${f.model} tenant=${f.tenant}`];
  if (f.tags.length) parts.push(`tags=${f.tags.join(',')}`);
  if (f.stream) parts.push('stream');
  if (f.hasTools) parts.push('tools');
  parts.push(`in=${f.inputTokens}`);
  if (f.temperature !== undefined) parts.push(`temp=${f.temperature}`);
  return parts.join(' ');
}

/** What `renderPolicyDiff` needs: both policies, compiled, and the requests to decide under both. */
export interface PolicyDiffInput {
  before: CompiledPolicy;
  after: CompiledPolicy;
  samples: readonly RequestFacts[];
  /** The time both decide at. */
  nowMs: number;
  format: 'text' | 'markdown' | 'json';
}

/**
 * The semantic diff of two policies plus the sample requests whose decision changes, as text,
 * Markdown (for a pull-request comment) or JSON.
 */
export function renderPolicyDiff(input: PolicyDiffInput): string {
  const { before, after } = input;
  const changes = diffPolicies(before, after);
  const impact = decisionImpact(before, after, input.samples, () => seededEnv(input.nowMs, 1));
  const changed = impact.filter((i) => i.changed);
  if (input.format === 'json')
    return `${JSON.stringify({ before: before.id, after: after.id, changes, impact: impact.map((i) => ({ facts: i.facts, changed: i.changed, changes: i.changes })) }, null, 2)}\n`;
  const md = input.format === 'markdown';
  const out: string[] = [];
  out.push(
    md ? `### Policy diff: \`${before.id}\` → \`${after.id}\`` : `policy ${before.id} → ${after.id}`,
    '',
  );
  if (changes.length === 0) out.push('no semantic changes');
  const sections = [...new Set(changes.map((c) => c.section))];
  for (const s of sections) {
    out.push(md ? `**${s}**` : `${s}:`);
    if (md) out.push('```diff');
    for (const c of changes.filter((x) => x.section === s))
      out.push(md ? renderChange(c) : `  ${renderChange(c)}`);
    if (md) out.push('```');
  }
  out.push(
    '',
    md
      ? `**Impact:** ${changed.length} of ${impact.length} sample request(s) decide differently`
      : `impact: ${changed.length} of ${impact.length} sample request(s) decide differently`,
  );
  for (const i of changed) {
    out.push(md ? `- \`${describeFacts(i.facts)}\`` : `  ${describeFacts(i.facts)}`);
    for (const line of i.changes) out.push(md ? `  - ${line}` : `      ${line}`);
  }
  return `${out.join('\n')}\n`;
}

/** `switchyard policy diff <old> <new> [--requests file.jsonl]`: semantic diff plus decision impact. */
export const policyDiffCommand: CliCommand = {
  usage: `usage: switchyard policy diff <old> <new> [--requests <file.jsonl>] [--format text|markdown|json]

  <old>, <new>     policy folders or files, or published version ids (see \`switchyard policy versions\`)

  Shows what changed in meaning (routes, models, prices, quotas, cache rules, …), ignoring
  formatting and comments, then decides sample requests under both and lists those whose decision
  changes. Samples: --requests (one JSON object of request facts per line), else the test cases of
  whichever side is a folder.
${storeFlagUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        requests: { type: 'string' },
        format: { type: 'string', default: 'text' },
        now: { type: 'string' },
        ...storeFlagOptions,
      },
    });
    const [oldRef, newRef] = positionals;
    if (!oldRef || !newRef) throw new Error('usage: switchyard policy diff <old> <new>');
    if (!['text', 'markdown', 'json'].includes(values.format))
      throw new Error(`--format must be text, markdown or json, got \`${values.format}\``);
    const before = await compileOrExplain(oldRef, values);
    const after = await compileOrExplain(newRef, values);
    const nowMs = values.now ? Date.parse(values.now) : Date.now();
    const folders = [before.path, after.path].filter((p): p is string => p !== undefined);
    process.stdout.write(
      renderPolicyDiff({
        before: before.policy,
        after: after.policy,
        samples: await sampleRequests(values.requests, folders),
        nowMs,
        format: values.format as PolicyDiffInput['format'],
      }),
    );
    return 0;
  },
};
