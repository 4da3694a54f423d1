import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  gw = await startTestGateway({ env: { SWITCHYARD_BODY_LIMIT: '65536' } });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
});

const ask = (content: string) => [{ role: 'user' as const, content }];

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return err;
}

describe('POST /v1/chat/completions through the OpenAI SDK', () => {
  it('answers a chat completion and names policy, route and serving deployment in headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'fast', messages: ask('Hello there') })
      .withResponse();
    expect(data.choices[0]?.message.content).toMatch(/\w/);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-policy')).toBe(gw.policies.active?.policy.id);
    expect(response.headers.get('x-switchyard-route')).toBe('model:fast');
    expect(response.headers.get('x-switchyard-model')).toMatch(/^fast\//);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('honours a sane incoming x-request-id and replaces a malformed one', async () => {
    const kept = await client.chat.completions
      .create({ model: 'fast', messages: ask('hi') }, { headers: { 'x-request-id': 'client-trace-42' } })
      .withResponse();
    expect(kept.response.headers.get('x-request-id')).toBe('client-trace-42');
    const replaced = await client.chat.completions
      .create(
        { model: 'fast', messages: ask('hi') },
        { headers: { 'x-request-id': 'has spaces <and> brackets' } },
      )
      .withResponse();
    expect(replaced.response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
  });

  it('keeps a ledger row for every request, also when a client reuses its x-request-id', async () => {
    const requestId = `client-retry-${Date.now()}`;
    for (const content of ['first try', 'second try']) {
      const { response } = await client.chat.completions
        .create({ model: 'fast', messages: ask(content) }, { headers: { 'x-request-id': requestId } })
        .withResponse();
      expect(response.headers.get('x-request-id')).toBe(requestId);
    }
    await gw.state.ledgerWriter.flush();
    const stored = await gw.state.ledger.query({
      groupBy: ['key'],
      fromMs: Date.now() - 60_000,
      toMs: Date.now() + 1,
    });
    const written = (await gw.ledgerRows()).filter((r) => r.requestId === requestId);
    expect(written).toHaveLength(2);
    expect(new Set(written.map((r) => r.rowId)).size).toBe(2);
    // The store (SQLite) counts both: none was dropped as a duplicate.
    const all = (await gw.ledgerRows()).length;
    expect(stored.reduce((n, g) => n + g.requests, 0)).toBe(all);
  });

  it('routes an alias through the policy (auto → fast)', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'auto', messages: ask('Hello') })
      .withResponse();
    expect(response.headers.get('x-switchyard-route')).toBe('auto');
    expect(response.headers.get('x-switchyard-model')).toMatch(/^fast\//);
  });

  it('streams content and leaves usage out unless the client asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'fast',
      messages: ask('Tell me about rivers'),
      stream: true,
    });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks++;
      expect(chunk.choices.length).toBeGreaterThan(0);
    }
    expect(text.length).toBeGreaterThan(10);
    expect(usageChunks).toBe(0);
  });

  it('ends a stream with a usage-only chunk when include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: 'fast',
      messages: ask('Tell me about rivers'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('sends SSE headers and frames exactly `data: {json}\\n\\n`, ending with `data: [DONE]`', async () => {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', messages: ask('hi'), stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    // Sent before any upstream answered: what the plan knows, not yet the serving deployment.
    expect(res.headers.get('x-switchyard-route')).toBe('model:fast');
    expect(res.headers.get('x-switchyard-policy')).toBe(gw.policies.active?.policy.id);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('50');
    const text = await res.text();
    const frames = text.split('\n\n').filter(Boolean);
    expect(frames.at(-1)).toBe('data: [DONE]');
    for (const frame of frames.slice(0, -1))
      expect(() => JSON.parse(frame.replace(/^data: /, ''))).not.toThrow();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('makes the SDK throw when the upstream fails mid-stream, instead of ending quietly', async () => {
    const stream = await client.chat.completions.create({
      model: 'fast',
      messages: ask('Tell me a story #sim:midstream-error=4'),
      stream: true,
    });
    let received = 0;
    const err = await (async () => {
      for await (const _ of stream) received++;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(received).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toMatch(/midstream|failure/);
  });

  it('round-trips a tool call: the model calls the tool, then answers from its result', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Use get_weather for Paris' },
    ];
    const first = await client.chat.completions.create({ model: 'fast', messages, tools });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    messages.push(first.choices[0]!.message, {
      role: 'tool',
      tool_call_id: call!.id,
      content: '{"temperature":21}',
    });
    const second = await client.chat.completions.create({ model: 'fast', messages, tools });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toMatch(/21/);
  });

  it('streams tool call deltas the SDK can assemble', async () => {
    const stream = client.chat.completions.stream({
      model: 'fast',
      messages: ask('Use get_weather for Rome'),
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather' },
    });
  });
});

describe('chat errors as the OpenAI SDK sees them', () => {
  it('400 names the bad field in `param`', async () => {
    const err = await apiError(
      client.chat.completions.create({ model: 'fast', messages: [{ role: 'bot', content: 'x' }] } as never),
    );
    expect([err.status, err.code, err.param, err.type]).toEqual([
      400,
      'invalid_request',
      'messages.0.role',
      'invalid_request_error',
    ]);
    const empty = await apiError(client.chat.completions.create({ model: 'fast', messages: [] }));
    expect([empty.status, empty.param, empty.message]).toEqual([
      400,
      'messages',
      '400 invalid `messages`: must not be empty',
    ]);
    const temp = await apiError(
      client.chat.completions.create({ model: 'fast', messages: ask('x'), temperature: 'hot' as never }),
    );
    expect(temp.param).toBe('temperature');
  });

  it('401 tells a missing, an unknown, a revoked and an expired key apart', async () => {
    const missing = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'missing_api_key',
    ]);
    const unknown = await apiError(
      new OpenAI({
        baseURL: gw.baseURL,
        apiKey: 'sk-sy-ThisKeyWasNeverIssuedByTheGatewayAtAll',
        maxRetries: 0,
      }).models.list(),
    );
    expect([unknown.status, unknown.code]).toEqual([401, 'invalid_api_key']);
    const revoked = await gw.issueKey({ tenant: 'default' });
    await gw.keys.disable(revoked.id);
    gw.gateway.ctx.authenticator.forget(revoked.id);
    const disabled = await apiError(
      new OpenAI({ baseURL: gw.baseURL, apiKey: revoked.key, maxRetries: 0 }).chat.completions.create({
        model: 'fast',
        messages: ask('x'),
      }),
    );
    expect([disabled.status, disabled.code]).toEqual([401, 'api_key_disabled']);
    const old = await gw.issueKey({ tenant: 'default', expiresAt: Date.now() - 1000 });
    const expired = await apiError(
      new OpenAI({ baseURL: gw.baseURL, apiKey: old.key, maxRetries: 0 }).chat.completions.create({
        model: 'fast',
        messages: ask('x'),
      }),
    );
    expect([expired.status, expired.code]).toEqual([401, 'api_key_expired']);
  });

  it('403 when the key may not use the model, and when the tenant may not', async () => {
    const embedOnly = await gw.issueKey({ tenant: 'default', allowedModels: ['embed'] });
    const byKey = await apiError(
      new OpenAI({ baseURL: gw.baseURL, apiKey: embedOnly.key, maxRetries: 0 }).chat.completions.create({
        model: 'fast',
        messages: ask('x'),
      }),
    );
    expect([byKey.status, byKey.code, byKey.type]).toEqual([
      403,
      'model_not_allowed_for_key',
      'permission_error',
    ]);
    const trial = await gw.issueKey({ tenant: 'trial' });
    const byTenant = await apiError(
      new OpenAI({ baseURL: gw.baseURL, apiKey: trial.key, maxRetries: 0 }).chat.completions.create({
        model: 'strong',
        messages: ask('x'),
      }),
    );
    expect([byTenant.status, byTenant.code]).toEqual([403, 'model_not_allowed']);
  });

  it('404 for a model the policy does not have', async () => {
    const err = await apiError(client.chat.completions.create({ model: 'gpt-17', messages: ask('x') }));
    expect([err.status, err.code]).toEqual([404, 'model_not_found']);
  });

  it('413 for a body over the limit, in the OpenAI shape', async () => {
    const err = await apiError(
      client.chat.completions.create({ model: 'fast', messages: ask('x'.repeat(70_000)) }),
    );
    expect([err.status, err.code, err.type]).toEqual([413, 'request_too_large', 'invalid_request_error']);
  });

  it('429 with Retry-After when every deployment is rate limited', async () => {
    const err = await apiError(
      client.chat.completions.create({ model: 'fast', messages: ask('x #sim:error=429') }),
    );
    expect([err.status, err.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(err.headers?.get('retry-after')).toBe('1');
    expect(err.headers?.get('x-switchyard-attempts')).toMatch(
      /fast\/small-\w;failed;\d+ms, fast\/small-\w;failed/,
    );
  });

  it('502, 503 and 504 for upstream server errors, overload and timeouts', async () => {
    const cases: [string, number, string][] = [
      ['#sim:error=500', 502, 'upstream_server_error'],
      ['#sim:error=503', 503, 'upstream_overloaded'],
      ['#sim:error=504', 504, 'upstream_timeout'],
    ];
    for (const [marker, status, code] of cases) {
      const err = await apiError(
        client.chat.completions.create({ model: 'fast', messages: ask(`x ${marker}`) }),
      );
      expect([err.status, err.code]).toEqual([status, code]);
    }
  });

  it('a streamed request that fails before its first token ends its stream with an error the SDK throws', async () => {
    // The stream's headers went out when it was admitted: the failure arrives as an error event.
    const stream = await client.chat.completions.create({
      model: 'fast',
      messages: ask('x #sim:error=503'),
      stream: true,
    });
    const err = await apiError(
      (async () => {
        for await (const _ of stream);
      })(),
    );
    expect(err.code).toBe('upstream_overloaded');
    expect(err.message).toMatch(/503/);
  });
});
