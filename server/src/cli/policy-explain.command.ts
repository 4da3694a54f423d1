import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type Decision,
  explain,
  factsWithDefaults,
  type RequestFacts,
  seededEnv,
  testFactsSchema,
} from '@switchyard/engine';
import { compilePolicyFolder } from '../policy-runtime/load-policy-folder.ts';
import type { CliCommand } from './cli-command.ts';
import { renderDiagnostics } from './print-diagnostics.ts';

const marks = { matched: '✓', applied: '✓', skipped: '·', denied: '✗', info: ' ' } as const;

/** Renders a decision in a few readable lines. */
export function renderDecision(d: Decision): string {
  if (d.kind === 'deny')
    return `denied ${d.status} ${d.code}: ${d.message}${d.retryAfterMs ? ` (retry after ${Math.ceil(d.retryAfterMs / 1000)} s)` : ''}`;
  const lines = [
    `route      ${d.routeId}`,
    `model      ${d.target}${d.experiment ? ` (experiment ${d.experiment.id}, arm ${d.experiment.arm})` : ''}`,
    `deployment ${d.candidates.map((c) => `${c.id} (${c.provider.type}:${c.model})`).join(' → ')}`,
  ];
  if (d.escalation.length)
    lines.push(
      `escalation ${d.escalation.map((h) => `${h.to} on ${h.on.join('/')}`).join(' → ')} (at most ${d.maxEscalations})`,
    );
  lines.push(
    `cache      ${d.cache ? `${d.cache.ruleId} (${d.cache.mode}, ttl ${d.cache.ttlMs / 1000} s, scope ${d.cache.scopeKey})` : 'none'}`,
  );
  for (const c of d.charges)
    lines.push(
      `reserve    ${c.amount.toPrecision(4)} ${c.unit} of ${c.quotaId} (${c.limit} per ${c.window}, per ${c.per})`,
    );
  for (const l of d.limits)
    lines.push(
      `limit      ${l.cost} ${l.unit} from ${l.limitId} (burst ${l.capacity}, ${l.refillPerSec}/s, per ${l.per})`,
    );
  lines.push(
    `retries    ${d.idempotent ? `${d.resilience.retry.attempts} on ${d.resilience.retry.on.join(',')}` : 'none (route is not idempotent)'}`,
  );
  return lines.join('\n');
}

/** Reads a request for explain: request facts (partial, JSON). */
async function readFacts(path: string): Promise<Partial<RequestFacts>> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`cannot read request file \`${path}\``);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`request file \`${path}\` is not JSON: ${(err as Error).message}`);
  }
  const r = testFactsSchema.safeParse(json);
  if (!r.success)
    throw new Error(
      `request file \`${path}\`: ${r.error.issues.map((i) => `\`${i.path.join('.') || 'facts'}\` ${i.message.toLowerCase()}`).join('; ')}`,
    );
  return r.data;
}

/** `switchyard policy explain <dir> --request <file.json>`. */
export const policyExplainCommand: CliCommand = {
  usage: `usage: switchyard policy explain <dir> --request <file.json> [options]

  --request FILE   request facts as JSON, e.g. {"model":"auto","tags":["code"],"inputTokens":900}
                   (missing facts default to a plain chat request from tenant \`default\`)
  --tenant T       the tenant the request comes from (overrides the file)
  --key ID         the API key id (default key_test)
  --now ISO        the time to decide at (default: now)
  --seed N         seed of the weighted deployment pick (default 1)
  --format FORMAT  text (default) or json`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        request: { type: 'string' },
        tenant: { type: 'string' },
        key: { type: 'string' },
        now: { type: 'string' },
        seed: { type: 'string', default: '1' },
        format: { type: 'string', default: 'text' },
      },
    });
    const dir = positionals[0];
    if (!dir || !values.request)
      throw new Error('usage: switchyard policy explain <dir> --request <file.json>');
    const { files, result } = await compilePolicyFolder(dir);
    if (!result.ok) {
      process.stdout.write(`${renderDiagnostics(result.errors, files)}\n✗ ${dir} does not compile\n`);
      return 1;
    }
    const facts = factsWithDefaults(await readFacts(values.request), {
      tenant: values.tenant,
      keyId: values.key,
    });
    const nowMs = values.now ? Date.parse(values.now) : Date.now();
    if (Number.isNaN(nowMs)) throw new Error(`--now \`${values.now}\` is not an ISO date`);
    const { decision, trace } = explain(result.policy, facts, {}, seededEnv(nowMs, Number(values.seed)));
    if (values.format === 'json') {
      process.stdout.write(
        `${JSON.stringify({ policy: result.policy.id, facts, decision, trace }, null, 2)}\n`,
      );
      return 0;
    }
    const out = [`policy     ${result.policy.id}`, renderDecision(decision), '', 'trace:'];
    for (const t of trace) out.push(`  ${marks[t.outcome]} ${t.rule.padEnd(28)} ${t.detail}`);
    out.push('', `reasons: ${decision.reasons.map((r) => r.rule).join(', ')}`);
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
