import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type DecisionInput, DecisionLog } from './decision-log.ts';
import { DecisionRing } from './decision-ring.ts';
import { redactSecretText, scrubSecrets, scrubSecretsInPlace } from './secret-scrubber.ts';

const gatewayKey = 'sk-sy-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd';
const upstreamKey = 'sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const googleKey = 'AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv';

/** A decision log writing to memory, and the lines it wrote. */
function capture(ring?: DecisionRing) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  return { log: new DecisionLog({ logger, ring }), lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

const failedOver: DecisionInput = {
  requestId: 'req_abc',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  endpoint: 'chat',
  tenant: 'search',
  keyId: 'key_123',
  policy: 'default@v7',
  route: 'auto',
  requestedModel: 'auto',
  logicalModel: 'fast',
  reasons: [{ rule: 'tenant:search' }, { rule: 'route:auto' }, { rule: 'deployment:fast/openai-mini' }],
  attempts: [
    {
      deploymentId: 'fast/openai-mini',
      outcome: 'failed',
      status: 503,
      code: 'upstream_overloaded',
      ms: 120,
    },
    { deploymentId: 'fast/local-qwen', outcome: 'ok', ms: 480 },
  ],
  deploymentId: 'fast/local-qwen',
  cache: { ruleId: 'faq', status: 'miss' },
  status: 200,
  outcome: 'ok',
  usage: { inputTokens: 42, outputTokens: 7 },
  costUsd: 0.000021,
  latencyMs: 640,
  stream: true,
  headers: { 'user-agent': 'OpenAI/JS 4.0', authorization: `Bearer ${gatewayKey}`, 'x-trace-me': gatewayKey },
  logContent: false,
  content: {
    messages: [{ role: 'user', content: `my key is ${upstreamKey}, summarise this` }],
    completion: 'A summary.',
  },
};

describe('decision log', () => {
  it('writes one JSON line with who, which rules, every attempt and why it was left, cache, tokens, cost, latency', () => {
    const { log, parsed } = capture();
    log.write(failedOver, Date.UTC(2025, 0, 2, 3, 4, 5));
    const [line] = parsed();
    expect(parsed()).toHaveLength(1);
    expect(line).toMatchObject({
      msg: 'decision',
      component: 'decision',
      requestId: 'req_abc',
      at: '2025-01-02T03:04:05.000Z',
      tenant: 'search',
      keyId: 'key_123',
      policy: 'default@v7',
      route: 'auto',
      model: 'fast',
      reasons: ['tenant:search', 'route:auto', 'deployment:fast/openai-mini'],
      attempts: [
        {
          deploymentId: 'fast/openai-mini',
          outcome: 'failed',
          status: 503,
          code: 'upstream_overloaded',
          ms: 120,
        },
        { deploymentId: 'fast/local-qwen', outcome: 'ok', ms: 480 },
      ],
      deployment: 'fast/local-qwen',
      cache: { rule: 'faq', status: 'miss' },
      status: 200,
      tokens: { input: 42, output: 7 },
      costUsd: 0.000021,
      latencyMs: 640,
    });
  });

  it('never writes a key: not from headers, messages, or an upstream error echoing it', () => {
    const { log, lines } = capture();
    log.write({ ...failedOver, logContent: true }, 0);
    log.write(
      {
        ...failedOver,
        status: 502,
        outcome: 'error',
        errorCode: 'upstream_auth_failed',
        errorMessage: `openai answered 401: Incorrect API key provided: ${upstreamKey}. Also tried key=${googleKey}`,
        headers: { 'x-api-key': gatewayKey, 'x-goog-api-key': googleKey, cookie: 'session=abc' },
      },
      0,
    );
    const text = lines.join('');
    for (const secret of [gatewayKey, upstreamKey, googleKey, 'session=abc'])
      expect(text).not.toContain(secret);
    expect(text).not.toContain(gatewayKey.slice(0, 20));
    const [, failed] = lines.map((l) => JSON.parse(l));
    expect(failed.error).toBe(
      'openai answered 401: Incorrect API key provided: [REDACTED]. Also tried key=[REDACTED]',
    );
    expect(failed.headers).toEqual({
      'x-api-key': '[REDACTED]',
      'x-goog-api-key': '[REDACTED]',
      cookie: '[REDACTED]',
    });
  });

  it('logs message content only when the tenant opted in, and scrubbed even then', () => {
    const { log, parsed } = capture();
    log.write(failedOver, 0);
    log.write({ ...failedOver, logContent: true }, 0);
    const [without, withContent] = parsed();
    expect(without.content).toBeUndefined();
    expect(JSON.stringify(without)).not.toContain('summarise');
    expect(withContent.content).toEqual({
      messages: [{ role: 'user', content: 'my key is [REDACTED], summarise this' }],
      completion: 'A summary.',
    });
  });

  it('never changes what the caller passed in, though it scrubs the line in place', () => {
    const { log } = capture();
    const input: DecisionInput = {
      ...failedOver,
      logContent: true,
      headers: { 'x-forwarded-for': [`1.2.3.4 ${gatewayKey}`] },
    };
    const before = JSON.stringify(input);
    log.write(input, 0);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('keeps the scrubbed record in the ring for the admin API', () => {
    const ring = new DecisionRing(10);
    const { log } = capture(ring);
    log.write(failedOver, 0);
    const kept = ring.get('req_abc');
    expect(kept?.attempts).toHaveLength(2);
    expect(JSON.stringify(kept)).not.toContain(gatewayKey);
  });
});

describe('secret scrubber', () => {
  it.each([
    [`Authorization: Bearer abc.def-ghi`, 'Authorization: Bearer [REDACTED]'],
    [`key ${gatewayKey} used`, 'key [REDACTED] used'],
    ['sk-ant-api03-abcdefghijklmnop', '[REDACTED]'],
    [`https://user:hunter2@example.com/v1`, 'https://[REDACTED]@example.com/v1'],
    ['{"api_key": "abc123"}', '{"api_key": "[REDACTED]"}'],
    ['AKIAIOSFODNN7EXAMPLE', '[REDACTED]'],
    ['a task- or sk-short', 'a task- or sk-short'],
  ])('redacts %s', (text, expected) => {
    expect(redactSecretText(text)).toBe(expected);
  });

  it('scrubs errors, secret-named fields at any depth, and survives cycles', () => {
    const err = Object.assign(new Error(`failed with ${gatewayKey}`), { code: 'E_AUTH' });
    const cyclic: Record<string, unknown> = { nested: { apiKey: 'plain-looking', password: 'x' } };
    cyclic.self = cyclic;
    const out = scrubSecrets({ err, cyclic, tokens: { input: 3 } }) as {
      err: { stack: string };
      cyclic: { nested: unknown; self: unknown };
      tokens: unknown;
    };
    expect(out.err).toMatchObject({ type: 'Error', message: 'failed with [REDACTED]', code: 'E_AUTH' });
    expect(out.err.stack).not.toContain(gatewayKey);
    expect(out.cyclic.nested).toEqual({ apiKey: '[REDACTED]', password: '[REDACTED]' });
    expect(out.cyclic.self).toBe('[Circular]');
    expect(out.tokens).toEqual({ input: 3 });
  });

  it('scrubs a tree in place the same way, dropping undefined members and cutting long strings', () => {
    const tree: Record<string, unknown> = {
      error: `said ${gatewayKey}`,
      headers: { authorization: 'Bearer x', 'user-agent': 'sdk' },
      list: ['plain', `key=${googleKey}`],
      gone: undefined,
      long: 'x'.repeat(20),
    };
    const same = scrubSecretsInPlace(tree, { maxStringChars: 16 });
    expect(same).toBe(tree);
    expect(tree).toEqual({
      error: 'said [REDACTED]',
      headers: { authorization: '[REDACTED]', 'user-agent': 'sdk' },
      list: ['plain', 'key=[REDACTED]'],
      long: `${'x'.repeat(16)}…[truncated]`,
    });
  });
});

describe('decision ring', () => {
  const record = (requestId: string, tenant = 'search') => ({
    requestId,
    tenant,
    at: '',
    reasons: [],
    attempts: [],
    status: 200,
    outcome: 'ok' as const,
    latencyMs: 1,
  });

  it('keeps the last N decisions by request id, newest first', () => {
    const ring = new DecisionRing(3);
    for (const id of ['a', 'b', 'c', 'd']) ring.add(record(id, id === 'c' ? 'other' : 'search'));
    expect(ring.get('a')).toBeUndefined();
    expect(ring.get('b')?.requestId).toBe('b');
    expect(ring.list().map((r) => r.requestId)).toEqual(['d', 'c', 'b']);
    expect(ring.list({ tenant: 'search', limit: 1 }).map((r) => r.requestId)).toEqual(['d']);
    expect(ring.size).toBe(3);
  });
});
