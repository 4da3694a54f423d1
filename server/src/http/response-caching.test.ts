import type { ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { quotaWindowBounds } from '@switchyard/engine';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  type RecordedRequest,
  replyJson,
  startFakeUpstream,
  startSse,
} from '../providers/fake-upstream.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

const policy = `
apiVersion: switchyard/v1
name: caching
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
  claude: { type: anthropic, baseUrl: '\${env:FAKE_ANTHROPIC_URL}', apiKey: '\${env:ANTHROPIC_KEY}' }
models:
  remote:
    deployments: [{ id: r, provider: up, model: fake-model, price: { inPerMTok: 1000, outPerMTok: 2000 } }]
  shared:
    deployments: [{ id: s, provider: up, model: fake-shared, price: { inPerMTok: 1000, outPerMTok: 2000 } }]
  vectors:
    capabilities: [embedding]
    deployments: [{ id: v, provider: up, model: fake-embed, price: { inPerMTok: 1000, outPerMTok: 0 } }]
  claude:
    deployments:
      - { id: c, provider: claude, model: claude-x, price: { inPerMTok: 3, outPerMTok: 15, cachedInPerMTok: 0.3 } }
tenants:
  default: {}
  acme:
    quotas: [{ id: key-tokens, per: key, window: day, tokens: 1000000 }]
    rateLimits: [{ per: key, rpm: 60 }]
  other: {}
cache:
  - { id: shared-faq, match: { model: shared }, mode: exact, ttl: 1h, scope: tenant }
  - { id: claude-prefix, match: { model: claude }, mode: exact, ttl: 1h, scope: key, promptCache: true }
  - id: deterministic
    match: { endpoint: [chat, messages] }
    when: { "==": [{ var: temperature }, 0] }
    mode: exact
    ttl: 1h
    scope: key
  - { id: vectors, match: { endpoint: embeddings }, mode: exact, ttl: 1h, scope: tenant }
resilience:
  retry: { attempts: 0 }
`;

interface ChatBody {
  model: string;
  stream?: boolean;
  messages: { content: string | { type: string; text?: string }[] }[];
}

/** The question of a recorded chat request (its last message's text). */
function questionOf(r: RecordedRequest): string {
  const content = (r.json as ChatBody | undefined)?.messages?.at(-1)?.content ?? '';
  return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join('');
}

let served = 0;

/**
 * An OpenAI-compatible upstream: every chat answer is numbered (so a replayed answer is told from a
 * fresh one); questions containing `[length]`, `[error]` or `[stall]` are cut short, fail, or
 * stall mid-stream.
 */
function answer(req: RecordedRequest, res: ServerResponse): void {
  if (req.url.endsWith('/embeddings')) {
    replyJson(res, 200, {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.25, 0.5, 0.75] }],
      model: 'fake-embed',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    return;
  }
  const body = req.json as ChatBody;
  const question = questionOf(req);
  if (question.includes('[error]')) {
    replyJson(res, 500, { error: { message: 'upstream broke', type: 'server_error' } });
    return;
  }
  served++;
  const content = `answer #${served}: the reply to ${question}`;
  const finish = question.includes('[length]') ? 'length' : 'stop';
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  if (!body.stream) {
    replyJson(res, 200, {
      id: `c${served}`,
      object: 'chat.completion',
      created: 1,
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
      usage,
    });
    return;
  }
  const frame = (delta: object, finishReason: string | null, extra: object = {}) =>
    `data: ${JSON.stringify({ id: `c${served}`, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`;
  startSse(res);
  res.write(frame({ role: 'assistant', content: '' }, null));
  for (const word of content.split(/(?<= )/)) res.write(frame({ content: word }, null));
  if (question.includes('[stall]')) return;
  res.write(frame({}, finish));
  res.write(
    `data: ${JSON.stringify({ id: `c${served}`, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage })}\n\n`,
  );
  res.end('data: [DONE]\n\n');
}

let upstream: FakeUpstream;
let anthropic: FakeUpstream;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream(answer);
  anthropic = await startFakeUpstream((_req, res) =>
    replyJson(res, 200, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Cached prefixes are cheaper.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 1800,
        output_tokens: 9,
      },
    }),
  );
  gw = await startTestGateway({
    policyText: policy,
    env: {
      FAKE_URL: `${upstream.baseUrl}/v1`,
      FAKE_ANTHROPIC_URL: anthropic.baseUrl,
      ANTHROPIC_KEY: 'test-anthropic-key',
    },
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await anthropic?.close();
});

/** Upstream chat calls that asked `question`. */
const callsFor = (question: string) => upstream.requests.filter((r) => questionOf(r) === question).length;

/** A temperature-0 chat request (the default rule caches it per key), with its response headers. */
async function ask(question: string, options: { client?: OpenAI; headers?: Record<string, string> } = {}) {
  const { data, response } = await (options.client ?? client).chat.completions
    .create(
      { model: 'remote', temperature: 0, messages: [{ role: 'user', content: question }] },
      { headers: options.headers },
    )
    .withResponse();
  return {
    content: data.choices[0]?.message.content,
    cache: response.headers.get('x-switchyard-cache'),
    requestId: response.headers.get('x-request-id')!,
    model: response.headers.get('x-switchyard-model'),
  };
}

async function clientOf(tenant: string): Promise<{ client: OpenAI; id: string }> {
  const { key, id } = await gw.issueKey({ tenant });
  return { client: new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 }), id };
}

describe('exact caching through the gateway', () => {
  it('answers the second identical temperature-0 request from cache: upstream called once, hit in ledger and decision', async () => {
    const question = 'What is the boiling point of water?';
    const first = await ask(question);
    const second = await ask(question);
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(second.content).toBe(first.content);
    expect(second.model).toBe('remote/r');
    expect(callsFor(question)).toBe(1);
    const missRow = await gw.ledgerRow(first.requestId);
    const hitRow = await gw.ledgerRow(second.requestId);
    expect(missRow).toMatchObject({ cacheStatus: 'miss', inputTokens: 10, outputTokens: 5 });
    expect(missRow.costUsd).toBeCloseTo((10 * 1000 + 5 * 2000) / 1e6, 12);
    expect(hitRow).toMatchObject({ cacheStatus: 'hit', costUsd: 0, inputTokens: 0, outputTokens: 0 });
    expect(hitRow.savedCostUsd).toBeCloseTo(missRow.costUsd, 12);
    const line = await gw.requestLog(second.requestId);
    expect(line).toMatchObject({
      requestId: second.requestId,
      cache: { rule: 'deterministic', status: 'hit', similarity: 1 },
      deployment: 'remote/r',
      attempts: [],
      status: 200,
      outcome: 'ok',
    });
    expect((line.cache as { savedCostUsd: number }).savedCostUsd).toBeCloseTo(missRow.costUsd, 12);
  });

  it('says `bypass` when no cache rule applies, and calls the upstream every time', async () => {
    const question = 'Tell me something new (creative)';
    const create = () =>
      client.chat.completions
        .create({ model: 'remote', temperature: 0.9, messages: [{ role: 'user', content: question }] })
        .withResponse();
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await create()).response.headers.get('x-switchyard-cache'));
    expect(statuses).toEqual(['bypass', 'bypass']);
    expect(callsFor(question)).toBe(2);
  });

  it('replays a cached answer to a streaming client as a proper event stream, and caches a streamed answer', async () => {
    const question = 'Which planet is largest?';
    const fresh = await ask(question);
    const stream = await client.chat.completions.create({
      model: 'remote',
      temperature: 0,
      messages: [{ role: 'user', content: question }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(fresh.content);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(5);
    expect(callsFor(question)).toBe(1);

    // Raw frames: SSE headers, `data: {json}` frames, `[DONE]` last.
    const raw = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'remote',
        temperature: 0,
        messages: [{ role: 'user', content: question }],
        stream: true,
      }),
    });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(raw.headers.get('x-switchyard-cache')).toBe('hit');
    const text = await raw.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"usage"');

    // A streamed miss is assembled and stored: a non-streaming client then gets it as JSON.
    const streamedQuestion = 'Name a prime number';
    const streamed = await client.chat.completions.create({
      model: 'remote',
      temperature: 0,
      messages: [{ role: 'user', content: streamedQuestion }],
      stream: true,
    });
    let streamedText = '';
    for await (const chunk of streamed) streamedText += chunk.choices[0]?.delta.content ?? '';
    const again = await ask(streamedQuestion);
    expect(again).toMatchObject({ cache: 'hit', content: streamedText });
    expect(callsFor(streamedQuestion)).toBe(1);
  });

  it('skips the lookup for `Cache-Control: no-cache` but stores the answer; `no-store` neither reads nor writes', async () => {
    const question = 'How tall is Mount Everest?';
    const first = await ask(question);
    const refreshed = await ask(question, { headers: { 'cache-control': 'no-cache' } });
    expect(refreshed.cache).toBe('bypass');
    expect(refreshed.content).not.toBe(first.content);
    // The refreshed answer replaced the stored one.
    expect(await ask(question)).toMatchObject({ cache: 'hit', content: refreshed.content });
    expect(callsFor(question)).toBe(2);

    const unstored = 'A question nobody may remember';
    expect((await ask(unstored, { headers: { 'cache-control': 'no-store' } })).cache).toBe('bypass');
    expect((await ask(unstored)).cache).toBe('miss');
    expect(callsFor(unstored)).toBe(2);
  });

  it('never stores errors, answers cut short by `length`, or streams the client abandoned', async () => {
    const failing = 'Explain this [error]';
    for (let i = 0; i < 2; i++) {
      const err = await client.chat.completions
        .create({ model: 'remote', temperature: 0, messages: [{ role: 'user', content: failing }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
    }
    expect(callsFor(failing)).toBe(2);

    const truncated = 'Write a very long essay [length]';
    expect((await ask(truncated)).cache).toBe('miss');
    expect((await ask(truncated)).cache).toBe('miss');
    expect(callsFor(truncated)).toBe(2);

    const abandoned = 'Stream this forever [stall]';
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: 'remote', temperature: 0, messages: [{ role: 'user', content: abandoned }], stream: true },
        { signal: controller.signal },
      )
      .withResponse();
    await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) controller.abort();
    })().catch(() => undefined);
    expect(await gw.requestLog(response.headers.get('x-request-id')!)).toMatchObject({
      outcome: 'cancelled',
      cache: { rule: 'deterministic', status: 'miss' },
    });
    expect((await ask(abandoned)).cache).toBe('miss');
  });

  it('keeps key-scoped entries to their key, and shares tenant-scoped ones within the tenant only', async () => {
    const question = 'What is the speed of light?';
    await ask(question);
    const sameTenant = await clientOf('default');
    expect((await ask(question, { client: sameTenant.client })).cache).toBe('miss');
    expect(callsFor(question)).toBe(2);

    const faq = 'What are your opening hours?';
    const shared = async (c: OpenAI) =>
      (
        await c.chat.completions
          .create({ model: 'shared', messages: [{ role: 'user', content: faq }] })
          .withResponse()
      ).response.headers.get('x-switchyard-cache');
    const acme1 = await clientOf('acme');
    const acme2 = await clientOf('acme');
    const other = await clientOf('other');
    expect(await shared(acme1.client)).toBe('miss');
    expect(await shared(acme2.client)).toBe('hit');
    expect(await shared(other.client)).toBe('miss');
    expect(callsFor(faq)).toBe(2);
  });

  it('counts a hit against rate limits but releases its token quota reservation', async () => {
    const { client: acme, id } = await clientOf('acme');
    const question = 'Quota question';
    const [start] = quotaWindowBounds('day', Date.now());
    const quotaKey = `q|acme|key-tokens|${id}|${start}`;
    const used = async () =>
      (await gw.state.protection.local.quotas.usage([quotaKey], Date.now()))[quotaKey] ?? {
        used: 0,
        reserved: 0,
      };
    const remaining = async () => {
      const { response } = await acme.chat.completions
        .create({ model: 'remote', temperature: 0, messages: [{ role: 'user', content: question }] })
        .withResponse();
      return {
        cache: response.headers.get('x-switchyard-cache'),
        requests: Number(response.headers.get('x-ratelimit-remaining-requests')),
      };
    };
    const first = await remaining();
    await expect.poll(async () => (await used()).reserved).toBe(0);
    expect(await used()).toEqual({ used: 15, reserved: 0 });
    const second = await remaining();
    expect(second.cache).toBe('hit');
    expect(second.requests).toBeLessThan(first.requests);
    await expect.poll(async () => (await used()).reserved).toBe(0);
    expect((await used()).used).toBe(15);
  });
});

describe('the Anthropic Messages API', () => {
  it('answers a repeated temperature-0 message from cache, as JSON and as a replayed event stream', async () => {
    const anthropicClient = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
    const question = 'Which ocean is the deepest?';
    const params = {
      model: 'remote',
      max_tokens: 100,
      temperature: 0,
      messages: [{ role: 'user' as const, content: question }],
    };
    const { data: first, response } = await anthropicClient.messages.create(params).withResponse();
    expect(response.headers.get('x-switchyard-cache')).toBe('miss');
    const { data: second, response: again } = await anthropicClient.messages.create(params).withResponse();
    expect(again.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.content).toEqual(first.content);
    const replayed = await anthropicClient.messages.stream(params).finalMessage();
    expect(replayed.content).toEqual(first.content);
    expect(replayed.stop_reason).toBe('end_turn');
    expect(callsFor(question)).toBe(1);
  });
});

describe('embeddings caching', () => {
  it('answers a repeated embeddings request of the tenant from cache', async () => {
    const embed = async () => {
      const { data, response } = await client.embeddings
        .create({ model: 'vectors', input: 'cache me', encoding_format: 'float' })
        .withResponse();
      return { vector: data.data[0]?.embedding, cache: response.headers.get('x-switchyard-cache') };
    };
    const first = await embed();
    const second = await embed();
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(second.vector).toEqual(first.vector);
    expect(upstream.requests.filter((r) => r.url.endsWith('/embeddings'))).toHaveLength(1);
  });
});

describe('provider prompt caching', () => {
  it('marks the stable prefix for Anthropic and prices cached input tokens at the cached rate', async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: 'claude',
        messages: [
          { role: 'system', content: 'You are a long, stable system prompt.' },
          { role: 'user', content: 'hi' },
        ],
      })
      .withResponse();
    expect(data.usage?.prompt_tokens_details?.cached_tokens).toBe(1800);
    const sent = anthropic.requests.at(-1)!.json as { system: { cache_control?: unknown }[] };
    expect(sent.system.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ inputTokens: 1812, cachedTokens: 1800, outputTokens: 9 });
    expect(row.costUsd).toBeCloseTo((12 * 3 + 1800 * 0.3 + 9 * 15) / 1e6, 12);
  });
});
