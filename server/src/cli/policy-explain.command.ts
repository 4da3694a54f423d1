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
import { chatRequestSchema, embeddingsRequestSchema } from '../http/chat-request.schema.ts';
import { messagesRequestSchema } from '../http/messages-request.schema.ts';
import { chatRequestFromAnthropic } from '../providers/anthropic/translate-inbound.ts';
import type { AnthropicRequest } from '../providers/anthropic/wire.ts';
import type { ChatRequest, EmbeddingsRequest } from '../providers/chat-types.ts';
import { collectChatFacts, collectEmbeddingFacts } from '../request/collect-facts.ts';
import type { CliCommand } from './cli-command.ts';
import { storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';
import { renderDiagnostics } from './print-diagnostics.ts';
import { compilePolicySource } from './resolve-policy-source.ts';

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

/**
 * Reads a request for explain: an OpenAI chat or embeddings body, an Anthropic Messages body (with
 * `--endpoint messages`), or request facts, as JSON. Bodies become facts exactly as the server
 * collects them.
 */
async function readFacts(
  path: string,
  endpoint: string | undefined,
  tenant: string,
  keyId: string,
): Promise<Partial<RequestFacts>> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`cannot read request file \`${path}\``);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`request file \`${path}\` is not JSON: ${(err as Error).message}`);
  }
  const key = { id: keyId, tenant, name: 'explain', prefix: '', disabled: false, createdAt: 0 };
  const isBody = typeof json === 'object' && json !== null && ('messages' in json || 'input' in json);
  if (isBody || endpoint) {
    const problem = (issues: { path: PropertyKey[]; message: string }[]) =>
      new Error(
        `request file \`${path}\`: ${issues.map((i) => `\`${i.path.join('.') || 'body'}\` ${i.message.toLowerCase()}`).join('; ')}`,
      );
    if (endpoint === 'embeddings' || (endpoint === undefined && 'input' in (json as object))) {
      const body = embeddingsRequestSchema.safeParse(json);
      if (!body.success) throw problem(body.error.issues);
      return collectEmbeddingFacts(body.data as EmbeddingsRequest, {}, key);
    }
    if (endpoint === 'messages') {
      const body = messagesRequestSchema.safeParse(json);
      if (!body.success) throw problem(body.error.issues);
      return collectChatFacts(chatRequestFromAnthropic(body.data as AnthropicRequest), {}, key, 'messages');
    }
    const body = chatRequestSchema.safeParse(json);
    if (!body.success) throw problem(body.error.issues);
    return collectChatFacts(body.data as ChatRequest, {}, key);
  }
  const r = testFactsSchema.safeParse(json);
  if (!r.success)
    throw new Error(
      `request file \`${path}\`: ${r.error.issues.map((i) => `\`${i.path.join('.') || 'facts'}\` ${i.message.toLowerCase()}`).join('; ')}`,
    );
  return r.data;
}

/** `switchyard policy explain <dir|version> --request <file.json>`. */
export const policyExplainCommand: CliCommand = {
  usage: `usage: switchyard policy explain <dir|version> --request <file.json> [options]

  <dir|version>    policy folder or file, or a published version id
  --request FILE   an OpenAI chat or embeddings request body, or request facts as JSON, e.g.
                   {"model":"auto","tags":["code"],"inputTokens":900} (missing facts default to
                   a plain chat request from tenant \`default\`)
  --endpoint E     chat, embeddings or messages (an Anthropic Messages body); default: detected
  --tenant T       the tenant the request comes from (overrides the file)
  --key ID         the API key id (default key_test)
  --now ISO        the time to decide at (default: now)
  --seed N         seed of the weighted deployment pick (default 1)
  --format FORMAT  text (default) or json
${storeFlagUsage}`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        request: { type: 'string' },
        endpoint: { type: 'string' },
        tenant: { type: 'string' },
        key: { type: 'string' },
        now: { type: 'string' },
        seed: { type: 'string', default: '1' },
        format: { type: 'string', default: 'text' },
        ...storeFlagOptions,
      },
    });
    const dir = positionals[0];
    if (!dir || !values.request)
      throw new Error('usage: switchyard policy explain <dir|version> --request <file.json>');
    const { files, result } = await compilePolicySource(dir, { flags: values });
    if (!result.ok) {
      process.stdout.write(`${renderDiagnostics(result.errors, files)}\n✗ ${dir} does not compile\n`);
      return 1;
    }
    if (values.endpoint && !['chat', 'embeddings', 'messages'].includes(values.endpoint)) {
      throw new Error(`--endpoint must be chat, embeddings or messages, got \`${values.endpoint}\``);
    }
    const fromFile = await readFacts(
      values.request,
      values.endpoint,
      values.tenant ?? 'default',
      values.key ?? 'key_test',
    );
    const facts = factsWithDefaults(fromFile, { tenant: values.tenant, keyId: values.key });
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
