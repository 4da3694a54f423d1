import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { quotaWindowBounds } from '@switchyard/engine';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, replyJson, startFakeUpstream, startSse } from '../providers/fake-upstream.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

/** Each scenario has its own model (so breakers and retry budgets never mix): `a` first, `b` as fallback. */
const pairs = ['m500', 'm429', 'mreset', 'mhang', 'mstall', 'mbody', 'mflaky', 'midem'];
const solos = ['solohang', 'mesc', 'mstrong'];

const policy = `
apiVersion: switchyard/v1
name: faults
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
models:
${pairs
  .map(
    (m) =>
      `  ${m}: { deployments: [{ id: a, provider: up, model: ${m}-a, weight: 1 }, { id: b, provider: up, model: ${m}-b, weight: 0 }] }`,
  )
  .join('\n')}
${solos.map((m) => `  ${m}: { deployments: [{ id: a, provider: up, model: ${m}-a }] }`).join('\n')}
tenants:
  default:
    quotas: [{ per: tenant, window: day, tokens: 100000000 }]
routes:
  - id: esc
    match: { model: esc }
    target: mesc
    escalate: [{ to: mstrong, on: [error] }]
resilience:
  timeouts: { firstTokenMs: 300, idleMs: 300, totalMs: 1200 }
  retry: { attempts: 1, on: [429, 500, 502, 503, connect, bodyError], backoffMs: 5, maxBackoffMs: 1500, budgetRatio: 1 }
  breaker: { failureRatio: 0.5, minRequests: 1000, windowMs: 10000, openMs: 600 }
  overrides:
    mflaky: { breaker: { minRequests: 4 } }
`;

type Behaviour = (res: ServerResponse, call: number) => void;

const behaviours = new Map<string, Behaviour>();
/** Per upstream model: `performance.now()` of every call. */
const calls = new Map<string, number[]>();

const completion = (model: string) => ({
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: `from ${model}` }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
});

const chunk = (model: string, delta: Record<string, unknown>, finish: string | null = null, usage?: object) =>
  `data: ${JSON.stringify({ id: 's', object: 'chat.completion.chunk', created: 1, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], usage: usage ?? null })}\n\n`;

function ok(model: string): Behaviour {
  return (res) => replyJson(res, 200, completion(model));
}

function okStream(model: string): Behaviour {
  return (res) => {
    startSse(res);
    res.write(chunk(model, { role: 'assistant', content: '' }));
    res.write(chunk(model, { content: `streamed by ${model}` }));
    res.write(chunk(model, {}, 'stop'));
    res.write(chunk(model, {}, null, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 }));
    res.end('data: [DONE]\n\n');
  };
}

const serverError: Behaviour = (res) =>
  replyJson(res, 500, { error: { message: 'boom', type: 'server_error' } });

let upstream: FakeUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream((req, res) => {
    const model = (req.json as { model: string }).model;
    const seen = calls.get(model) ?? [];
    seen.push(performance.now());
    calls.set(model, seen);
    const behaviour = behaviours.get(model);
    if (!behaviour) return replyJson(res, 404, { error: { message: `no behaviour for ${model}` } });
    behaviour(res, seen.length);
  });
  gw = await startTestGateway({ policyText: policy, env: { FAKE_URL: `${upstream.baseUrl}/v1` } });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

const ask = [{ role: 'user' as const, content: 'hi' }];
const callsTo = (model: string) => calls.get(model)?.length ?? 0;

/** Nothing stays reserved once a request has been accounted: usage is back to settled-only. */
async function expectNothingReserved(): Promise<void> {
  const [start] = quotaWindowBounds('day', Date.now());
  const key = `q|default|tenant-day-tokens|default|${start}`;
  const usage = (await gw.state.protection.local.quotas.usage([key], Date.now()))[key];
  expect(usage?.reserved ?? 0).toBe(0);
}

async function failureOf(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return err;
}

async function drain(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

describe('upstream faults, through the OpenAI SDK', () => {
  it('retries 500s on the same deployment, then falls back to the next one', async () => {
    behaviours.set('m500-a', serverError);
    behaviours.set('m500-b', ok('m500-b'));
    const { data, response } = await client.chat.completions
      .create({ model: 'm500', messages: ask })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from m500-b');
    expect([callsTo('m500-a'), callsTo('m500-b')]).toEqual([2, 1]);
    expect(response.headers.get('x-switchyard-attempts')).toMatch(/^m500\/a;failed;\d+ms, m500\/b;ok;\d+ms$/);
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      deployment: 'm500/b',
      status: 200,
      outcome: 'ok',
      retries: 2,
      inputTokens: 4,
    });
    await expectNothingReserved();
  });

  it('honours a 429’s Retry-After before trying the same deployment again', async () => {
    behaviours.set('m429-a', (res, call) =>
      call === 1
        ? replyJson(res, 429, { error: { message: 'slow down', type: 'rate_limit' } }, { 'retry-after': '1' })
        : replyJson(res, 200, completion('m429-a')),
    );
    const { data, response } = await client.chat.completions
      .create({ model: 'm429', messages: ask })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from m429-a');
    const [first, second] = calls.get('m429-a')!;
    expect(second! - first!).toBeGreaterThanOrEqual(950);
    expect(callsTo('m429-b')).toBe(0);
    expect(await gw.ledgerRow(response.headers.get('x-request-id')!)).toMatchObject({
      retries: 1,
      status: 200,
    });
  });

  it('retries a connection reset, then falls back', async () => {
    behaviours.set('mreset-a', (res) => res.socket?.destroy());
    behaviours.set('mreset-b', ok('mreset-b'));
    const { data } = await client.chat.completions.create({ model: 'mreset', messages: ask }).withResponse();
    expect(data.choices[0]?.message.content).toBe('from mreset-b');
    expect([callsTo('mreset-a'), callsTo('mreset-b')]).toEqual([2, 1]);
    await expectNothingReserved();
  });

  it('gives up on an upstream that hangs before its headers at the first-token timeout, and falls back', async () => {
    behaviours.set('mhang-a', () => undefined);
    behaviours.set('mhang-b', okStream('mhang-b'));
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'mhang', messages: ask, stream: true })
      .withResponse();
    // The stream began before any upstream answered; the fallback's tokens arrive on it.
    expect(await drain(stream)).toBe('streamed by mhang-b');
    expect([callsTo('mhang-a'), callsTo('mhang-b')]).toEqual([1, 1]);
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ deployment: 'mhang/b', outcome: 'ok', retries: 1, outputTokens: 3 });
    expect(row.ttftMs).toBeGreaterThanOrEqual(300);

    behaviours.set('solohang-a', () => undefined);
    const err = await failureOf(client.chat.completions.create({ model: 'solohang', messages: ask }));
    expect([err.status, err.code]).toEqual([504, 'upstream_timeout']);
    expect(await gw.ledgerRow(err.headers!.get('x-request-id')!)).toMatchObject({
      outcome: 'timeout',
      status: 504,
      deployment: undefined,
    });
    await expectNothingReserved();
  });

  it('ends a stream that stalls half-way with an error event, and records a 504 with what was generated', async () => {
    behaviours.set('mstall-a', (res) => {
      startSse(res);
      res.write(chunk('mstall-a', { role: 'assistant', content: '' }));
      res.write(chunk('mstall-a', { content: 'half of the story and then' }));
    });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'mstall', messages: ask, stream: true })
      .withResponse();
    let text = '';
    const err = await failureOf(
      (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(text).toBe('half of the story and then');
    expect(err.code).toBe('upstream_timeout');
    expect(callsTo('mstall-b')).toBe(0);
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 504, outcome: 'timeout', deployment: 'mstall/a', estimated: true });
    expect(row.outputTokens).toBeGreaterThan(0);
    await expectNothingReserved();
  });

  it('retries an error inside a 200 body', async () => {
    behaviours.set('mbody-a', (res, call) =>
      call === 1
        ? replyJson(res, 200, { error: { message: 'model overloaded', type: 'server_error' } })
        : replyJson(res, 200, completion('mbody-a')),
    );
    const { data, response } = await client.chat.completions
      .create({ model: 'mbody', messages: ask })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from mbody-a');
    expect([callsTo('mbody-a'), callsTo('mbody-b')]).toEqual([2, 0]);
    expect(await gw.ledgerRow(response.headers.get('x-request-id')!)).toMatchObject({
      retries: 1,
      status: 200,
    });
  });

  it('escalates when every candidate failed, reserving and settling the hop', async () => {
    behaviours.set('mesc-a', serverError);
    behaviours.set('mstrong-a', ok('mstrong-a'));
    const { data, response } = await client.chat.completions
      .create({ model: 'esc', messages: ask })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from mstrong-a');
    expect([callsTo('mesc-a'), callsTo('mstrong-a')]).toEqual([2, 1]);
    expect(await gw.ledgerRow(response.headers.get('x-request-id')!)).toMatchObject({
      deployment: 'mstrong/a',
      escalations: 1,
      retries: 1,
    });
    await expectNothingReserved();
  });

  it('does not retry or fall back for a client retrying with the same Idempotency-Key', async () => {
    behaviours.set('midem-a', serverError);
    behaviours.set('midem-b', ok('midem-b'));
    const headers = { 'idempotency-key': 'order-42' };
    const first = await client.chat.completions.create({ model: 'midem', messages: ask }, { headers });
    expect(first.choices[0]?.message.content).toBe('from midem-b');
    expect([callsTo('midem-a'), callsTo('midem-b')]).toEqual([2, 1]);
    // The same key again: the first call may have done its work upstream, so one try only.
    const again = await failureOf(
      client.chat.completions.create({ model: 'midem', messages: ask }, { headers }),
    );
    expect(again.status).toBe(502);
    expect([callsTo('midem-a'), callsTo('midem-b')]).toEqual([3, 1]);
  });

  it('opens the breaker after failures so plans skip the deployment, and closes it after a good half-open probe', async () => {
    behaviours.set('mflaky-a', serverError);
    behaviours.set('mflaky-b', ok('mflaky-b'));
    // Two requests, each trying `a` twice: four failures out of four open the breaker (minRequests 4).
    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: 'mflaky', messages: ask });
    expect(callsTo('mflaky-a')).toBe(4);
    for (let i = 0; i < 3; i++) {
      const { response } = await client.chat.completions
        .create({ model: 'mflaky', messages: ask })
        .withResponse();
      expect(response.headers.get('x-switchyard-model')).toBe('mflaky/b');
      expect(response.headers.get('x-switchyard-attempts')).toBeNull();
    }
    expect(callsTo('mflaky-a')).toBe(4);

    behaviours.set('mflaky-a', ok('mflaky-a'));
    await new Promise((r) => setTimeout(r, 650));
    const probe = await client.chat.completions.create({ model: 'mflaky', messages: ask }).withResponse();
    expect(probe.response.headers.get('x-switchyard-model')).toBe('mflaky/a');
    const after = await client.chat.completions.create({ model: 'mflaky', messages: ask }).withResponse();
    expect(after.response.headers.get('x-switchyard-model')).toBe('mflaky/a');
    expect(callsTo('mflaky-a')).toBe(6);
  });
});
