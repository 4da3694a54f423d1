import type { ServerResponse } from 'node:http';
import { quotaWindowBounds } from '@switchyard/engine';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  type RecordedRequest,
  replyJson,
  startFakeUpstream,
  startSse,
} from '../providers/fake-upstream.ts';
import type { LedgerAggregate, LedgerRow, LedgerStore } from '../stores/ledger-store.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

const policy = `
apiVersion: switchyard/v1
name: account
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
  down: { type: openai-compatible, baseUrl: 'http://127.0.0.1:9/v1' }
models:
  cheap:
    maxOutputTokens: 100
    deployments: [{ id: c, provider: up, model: cheap-model, price: { inPerMTok: 1000, outPerMTok: 2000 } }]
  dead:
    maxOutputTokens: 100
    deployments: [{ id: d, provider: down, model: gone, price: { inPerMTok: 1000, outPerMTok: 2000 } }]
tenants:
  default: {}
  money:
    quotas: [{ per: key, window: day, usd: 100 }, { per: key, window: day, tokens: 100000 }]
resilience:
  retry: { attempts: 1, backoffMs: 1, budgetRatio: 1 }
  timeouts: { idleMs: 5000 }
`;

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 's', object: 'chat.completion.chunk', created: 1, model: 'cheap-model', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

function handle(req: RecordedRequest, res: ServerResponse): void {
  const body = req.json as { stream?: boolean; messages: { content: string }[] };
  const prompt = body.messages.at(-1)?.content ?? '';
  if (prompt.includes('fail')) {
    replyJson(res, 500, { error: { message: 'boom', type: 'server_error' } });
    return;
  }
  if (body.stream) {
    // Three pieces, no usage, then silence until the gateway lets go.
    startSse(res);
    for (const piece of ['alpha ', 'beta ', 'gamma ']) res.write(chunk(piece));
    return;
  }
  replyJson(res, 200, {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: 'cheap-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  });
}

let upstream: FakeUpstream;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeUpstream(handle);
  gw = await startTestGateway({ policyText: policy, env: { FAKE_URL: `${upstream.baseUrl}/v1` } });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

/** Settled and reserved amounts of a key's daily quotas. */
async function keyUsage(g: TestGateway, keyId: string) {
  const [start] = quotaWindowBounds('day', Date.now());
  const usd = `q|money|key-day-usd|${keyId}|${start}`;
  const tokens = `q|money|key-day-tokens|${keyId}|${start}`;
  const u = await g.state.protection.local.quotas.usage([usd, tokens], Date.now());
  return { usd: u[usd] ?? { used: 0, reserved: 0 }, tokens: u[tokens] ?? { used: 0, reserved: 0 } };
}

async function moneyClient(g: TestGateway) {
  const { key, id } = await g.issueKey({ tenant: 'money' });
  return { client: new OpenAI({ baseURL: g.baseURL, apiKey: key, maxRetries: 0 }), id };
}

describe('settling reservations', () => {
  it('settles to the usage the upstream reported, at the serving deployment’s prices', async () => {
    const { client, id } = await moneyClient(gw);
    const { response } = await client.chat.completions
      .create({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      tenant: 'money',
      keyId: id,
      routeId: 'model:cheap',
      logicalModel: 'cheap',
      deployment: 'cheap/c',
      inputTokens: 7,
      outputTokens: 3,
      estimated: false,
      status: 200,
      outcome: 'ok',
      retries: 0,
      escalations: 0,
      cacheStatus: 'bypass',
    });
    expect(row.costUsd).toBeCloseTo((7 * 1000 + 3 * 2000) / 1e6, 12);
    expect(row.policyVersion).toBe(gw.policies.active?.policy.id);
    expect(await keyUsage(gw, id)).toEqual({
      usd: { used: expect.closeTo(row.costUsd, 12), reserved: 0 },
      tokens: { used: 10, reserved: 0 },
    });
  });

  it('charges a failed call its prompt and no output, and releases what never reached an upstream', async () => {
    const { client, id } = await moneyClient(gw);
    const failed = await client.chat.completions
      .create({ model: 'cheap', messages: [{ role: 'user', content: 'please fail' }] })
      .then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
    expect(failed.status).toBe(502);
    const row = await gw.ledgerRow(failed.headers!.get('x-request-id')!);
    expect(row).toMatchObject({
      outcome: 'error',
      status: 502,
      outputTokens: 0,
      estimated: true,
      retries: 1,
    });
    expect(row.inputTokens).toBeGreaterThan(0);
    const after = await keyUsage(gw, id);
    expect(after.tokens).toEqual({ used: row.inputTokens, reserved: 0 });
    expect(after.usd.reserved).toBe(0);

    const unreachable = await client.chat.completions
      .create({ model: 'dead', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => {
          throw new Error('expected a failure');
        },
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
    expect([unreachable.status, unreachable.code]).toEqual([502, 'upstream_unreachable']);
    expect(await gw.ledgerRow(unreachable.headers!.get('x-request-id')!)).toMatchObject({
      outcome: 'error',
      inputTokens: 0,
      costUsd: 0,
    });
    // Nothing was sent anywhere: the reservation went back untouched.
    expect(await keyUsage(gw, id)).toEqual(after);
  });

  it('charges a stream the client abandoned for the tokens generated so far, counted when the upstream sent no usage', async () => {
    const { client, id } = await moneyClient(gw);
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create(
        { model: 'cheap', messages: [{ role: 'user', content: 'tell me' }], stream: true },
        { signal: controller.signal },
      )
      .withResponse();
    let text = '';
    await (async () => {
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        if (text === 'alpha beta gamma ') controller.abort();
      }
    })().catch(() => undefined);
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    const expectedOutput = new Tiktoken(cl100k).encode('alpha beta gamma ').length;
    expect(row).toMatchObject({
      outcome: 'cancelled',
      status: 499,
      estimated: true,
      outputTokens: expectedOutput,
      deployment: 'cheap/c',
    });
    expect(row.ttftMs).toBeGreaterThanOrEqual(0);
    expect(row.inputTokens).toBeGreaterThan(0);
    expect(await keyUsage(gw, id)).toEqual({
      usd: { used: expect.closeTo(row.costUsd, 12), reserved: 0 },
      tokens: { used: row.inputTokens + expectedOutput, reserved: 0 },
    });
  });
});

/** A ledger store whose writes wait for `open()`, or fail. */
class ControlledLedger implements LedgerStore {
  private readonly failing: boolean;
  rows: LedgerRow[] = [];
  attempts = 0;
  #gate: Promise<void>;
  open!: () => void;
  constructor(failing: boolean) {
    this.failing = failing;
    this.#gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }
  async append(rows: readonly LedgerRow[]): Promise<void> {
    this.attempts++;
    if (this.failing) throw new Error('database is down');
    await this.#gate;
    this.rows.push(...rows);
  }
  async query(): Promise<LedgerAggregate[]> {
    return [];
  }
  async close(): Promise<void> {}
}

describe('the usage ledger off the request path', () => {
  it('serves every request while the ledger database hangs, and writes the rows once it answers', async () => {
    const ledger = new ControlledLedger(false);
    const slow = await startTestGateway({
      policyText: policy,
      env: { FAKE_URL: `${upstream.baseUrl}/v1` },
      ledger,
      ledgerWriter: { flushIntervalMs: 5, batchRows: 5 },
    });
    try {
      const client = new OpenAI({ baseURL: slow.baseURL, apiKey: slow.apiKey, maxRetries: 0 });
      for (let i = 0; i < 12; i++)
        await client.chat.completions.create({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] });
      await expect.poll(() => ledger.attempts).toBeGreaterThan(0);
      // Twelve answers while the first batch is still stuck in the database.
      expect(ledger.rows).toHaveLength(0);
      expect(slow.state.ledgerWriter.queued).toBe(12);
      ledger.open();
      await slow.state.ledgerWriter.flush();
      expect(ledger.rows).toHaveLength(12);
      expect(slow.state.stats.ledgerDropped).toBe(0);
    } finally {
      ledger.open();
      await slow.close();
    }
  });

  it('serves every request while the ledger database fails, and counts and logs the rows it drops', async () => {
    const ledger = new ControlledLedger(true);
    const failing = await startTestGateway({
      policyText: policy,
      env: { FAKE_URL: `${upstream.baseUrl}/v1` },
      ledger,
      ledgerWriter: { flushIntervalMs: 5, retries: 1, retryBaseMs: 5 },
    });
    try {
      const client = new OpenAI({ baseURL: failing.baseURL, apiKey: failing.apiKey, maxRetries: 0 });
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          client.chat.completions.create({ model: 'cheap', messages: [{ role: 'user', content: 'hi' }] }),
        ),
      );
      expect(answers.every((a) => a.choices[0]?.message.content === 'fine')).toBe(true);
      await expect.poll(() => failing.state.stats.ledgerDropped, { timeout: 5000 }).toBe(8);
      expect(
        failing.logs.some((l) => l.msg === 'usage ledger rows dropped' && l.reason === 'store_failed'),
      ).toBe(true);
    } finally {
      await failing.close();
    }
  });
});
