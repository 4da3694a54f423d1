import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ env: { SWITCHYARD_BODY_LIMIT: '32768' } });
});
afterAll(async () => {
  await gw?.close();
});

interface Sent {
  method: string;
  path: string;
  body?: string | Buffer | undefined;
  contentType?: string | undefined;
  headers?: Record<string, string>;
}

/** Sends one request over a plain socket (no client-side validation) and returns status and body. */
function send(
  s: Sent,
  auth = true,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      ...(auth ? { authorization: `Bearer ${gw.apiKey}` } : {}),
      ...s.headers,
    };
    if (s.contentType !== undefined) headers['content-type'] = s.contentType;
    const req = httpRequest(`${gw.url}${s.path}`, { method: s.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(s.body);
  });
}

/** A seeded generator, so a failure is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const endpoints = [
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/messages',
  '/admin/v1/keys',
  '/admin/v1/policy/reload',
];

const validBodies: Record<string, unknown> = {
  '/v1/chat/completions': {
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 5,
    tools: [{ type: 'function', function: { name: 'f' } }],
  },
  '/v1/embeddings': { model: 'embed', input: ['a', 'b'] },
  '/v1/messages': {
    model: 'fast',
    max_tokens: 5,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  },
  '/admin/v1/keys': { tenant: 'default', models: ['fast'] },
};

const weirdValues: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  'x',
  '',
  [],
  {},
  [null],
  [{}],
  { a: 1 },
  '\ud800',
  'a'.repeat(300),
];

/** Replaces one value somewhere in `value` with a weird one (or deletes it). */
function mutate(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || random() < 0.2) return weirdValues[Math.floor(random() * weirdValues.length)];
    const i = Math.floor(random() * value.length);
    return value.map((v, j) => (j === i ? mutate(v, random) : v));
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0 || random() < 0.2) return weirdValues[Math.floor(random() * weirdValues.length)];
    const key = keys[Math.floor(random() * keys.length)]!;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    if (random() < 0.25) delete copy[key];
    else copy[key] = mutate(copy[key], random);
    return copy;
  }
  return weirdValues[Math.floor(random() * weirdValues.length)];
}

function expectWellFormedError(path: string, res: { status: number; body: string }): void {
  expect(res.status, `${path} → ${res.body}`).toBeLessThan(500);
  if (res.status < 400) return;
  const body = JSON.parse(res.body) as Record<string, { message?: unknown; type?: unknown }>;
  if (path === '/v1/messages')
    expect(body).toMatchObject({
      type: 'error',
      error: { type: expect.any(String), message: expect.any(String) },
    });
  else expect(Object.keys(body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
}

describe('malformed input', () => {
  it('never answers 500 to broken bodies, wrong content types or odd bytes on any endpoint', async () => {
    const raw: Omit<Sent, 'method' | 'path'>[] = [
      { body: '{', contentType: 'application/json' },
      { body: '{"model":', contentType: 'application/json' },
      { body: 'null', contentType: 'application/json' },
      { body: '[]', contentType: 'application/json' },
      { body: '"text"', contentType: 'application/json' },
      { body: '12', contentType: 'application/json' },
      { body: '', contentType: 'application/json' },
      {
        body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        contentType: 'application/json',
      },
      {
        body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"model":"fast"}')]),
        contentType: 'application/json',
      },
      { body: '{"__proto__":{"polluted":true},"model":"fast"}', contentType: 'application/json' },
      { body: '{"constructor":{"prototype":{"polluted":true}}}', contentType: 'application/json' },
      { body: `${'['.repeat(50_000)}${']'.repeat(50_000)}`, contentType: 'application/json' },
      { body: '{"model":"fast"}', contentType: 'text/plain' },
      { body: 'model=fast', contentType: 'application/x-www-form-urlencoded' },
      { body: '{"model":"fast"}', contentType: 'application/json; charset=latin1' },
      { body: '{"model":"fast"}', contentType: 'multipart/form-data; boundary=x' },
      { body: '{"model":"fast"}', contentType: 'application/json', headers: { 'content-encoding': 'gzip' } },
      { body: 'x'.repeat(40_000), contentType: 'application/json' },
      {
        body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'y'.repeat(40_000) }] }),
        contentType: 'application/json',
      },
      { body: '{"model":"fast"}' },
    ];
    for (const path of endpoints) {
      for (const r of raw) {
        const res = await send({
          method: 'POST',
          path,
          ...r,
          headers: { ...r.headers, authorization: `Bearer ${gw.apiKey}` },
        });
        expectWellFormedError(path, res);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never answers 500 to mutated versions of valid bodies', async () => {
    const random = mulberry32(20240601);
    let sent = 0;
    for (let round = 0; round < 60; round++) {
      for (const [path, valid] of Object.entries(validBodies)) {
        const body = JSON.stringify(mutate(valid, random));
        const headers: Record<string, string> = path.startsWith('/admin')
          ? { authorization: 'Bearer test-admin-token-0123456789' }
          : {};
        expectWellFormedError(
          path,
          await send(
            { method: 'POST', path, body, contentType: 'application/json', headers },
            !path.startsWith('/admin'),
          ),
        );
        sent++;
      }
    }
    expect(sent).toBe(240);
  });

  it('answers odd methods, paths and headers with 4xx in the OpenAI shape', async () => {
    const cases: Sent[] = [
      { method: 'GET', path: '/v1/chat/completions' },
      { method: 'PUT', path: '/v1/embeddings' },
      { method: 'DELETE', path: '/v1/models' },
      { method: 'GET', path: '/v1/nope' },
      { method: 'GET', path: '/%' },
      { method: 'GET', path: `/v1/models/${'m'.repeat(400)}` },
      { method: 'GET', path: '/v1/models?x=%zz' },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: '{}',
        contentType: 'application/json',
        headers: { authorization: 'Bearer' },
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: '{}',
        contentType: 'application/json',
        headers: { authorization: `Bearer sk-sy-${'a'.repeat(500)}` },
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: '{}',
        contentType: 'application/json',
        headers: { 'x-api-key': '\t' },
      },
      {
        method: 'POST',
        path: '/v1/chat/completions',
        body: JSON.stringify(validBodies['/v1/chat/completions']),
        contentType: 'application/json',
        headers: {
          'x-switchyard-tags': ','.repeat(5000),
          traceparent: 'zz-not-a-trace',
          'x-request-id': 'x'.repeat(500),
        },
      },
    ];
    for (const c of cases) {
      const res = await send(c, !c.headers?.authorization && !c.headers?.['x-api-key']);
      expectWellFormedError(c.path, res);
    }
    const wrongMethod = await send({ method: 'GET', path: '/v1/chat/completions' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('is still up and ready afterwards', async () => {
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', policy: gw.policies.active?.policy.id });
  });
});
