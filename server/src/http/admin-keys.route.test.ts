import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
const admin = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

describe('the admin API guard', () => {
  it('refuses a missing or wrong admin token with 401', async () => {
    expect((await call('GET', '/admin/v1/keys', undefined, {})).body.error?.code).toBe('invalid_admin_token');
    expect(
      (await call('GET', '/admin/v1/keys', undefined, { authorization: 'Bearer wrong-token-0123456789' }))
        .status,
    ).toBe(401);
  });

  it('never accepts an API key as the admin token', async () => {
    expect(
      (await call('GET', '/admin/v1/keys', undefined, { authorization: `Bearer ${gw.apiKey}` })).status,
    ).toBe(401);
  });
});

describe('/admin/v1/keys', () => {
  it('creates a key shown once, which then works against the API', async () => {
    const created = await call('POST', '/admin/v1/keys', {
      tenant: 'demo',
      name: 'ci',
      models: ['fast'],
      expiresIn: '30d',
    });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^sk-sy-[A-Za-z0-9]{40}$/);
    expect(created.body).toMatchObject({
      tenant: 'demo',
      name: 'ci',
      allowedModels: ['fast'],
      disabled: false,
    });
    expect(Date.parse(created.body.expiresAt as string) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const listed = await call('GET', '/admin/v1/keys?tenant=demo');
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect((listed.body.data as { id: string }[]).map((k) => k.id)).toContain(created.body.id);
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
    await expect(
      client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
    ).resolves.toBeDefined();
  });

  it('disables a key so the very next request with it is refused', async () => {
    const created = await call('POST', '/admin/v1/keys', { tenant: 'default' });
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: created.body.key as string, maxRetries: 0 });
    await client.models.list();
    const disabled = await call('POST', `/admin/v1/keys/${created.body.id}/disable`);
    expect(disabled.body.disabled).toBe(true);
    const err = await client.models.list().catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('api_key_disabled');
  });

  it('deletes a key so it is unknown from then on', async () => {
    const created = await call('POST', '/admin/v1/keys', { tenant: 'default' });
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: created.body.key as string, maxRetries: 0 });
    await client.models.list();
    expect((await call('DELETE', `/admin/v1/keys/${created.body.id}`)).body).toMatchObject({ deleted: true });
    expect(
      ((await client.models.list().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>).code,
    ).toBe('invalid_api_key');
    expect((await call('DELETE', `/admin/v1/keys/${created.body.id}`)).body.error?.code).toBe(
      'key_not_found',
    );
  });

  it('validates what it is asked to create', async () => {
    const bad = await call('POST', '/admin/v1/keys', { tenant: 'demo', expiresIn: 'soon' });
    expect([bad.status, bad.body.error?.code]).toEqual([400, 'invalid_request']);
    expect((bad.body.error as unknown as { param: string }).param).toBe('expiresIn');
    const typo = await call('POST', '/admin/v1/keys', { tenant: 'demo', modles: ['fast'] });
    expect(typo.body.error?.message).toContain('`modles`');
  });
});

describe('/admin/v1/tenants', () => {
  it('lists the policy’s tenants with their key counts', async () => {
    const { body } = await call('GET', '/admin/v1/tenants');
    const tenants = body.data as {
      name: string;
      declared: boolean;
      keys: { total: number; active: number };
    }[];
    expect(tenants.map((t) => t.name)).toEqual(expect.arrayContaining(['default', 'demo', 'trial']));
    expect(tenants.find((t) => t.name === 'default')?.keys.total).toBeGreaterThanOrEqual(1);
    expect(body.policy).toBe(gw.policies.active?.policy.id);
  });
});

describe('an admin API without a token', () => {
  it('is off: 404 with a message saying how to turn it on', async () => {
    const plain = await startTestGateway({ env: { SWITCHYARD_ADMIN_TOKEN: '' } });
    try {
      const res = await fetch(`${plain.url}/admin/v1/keys`, {
        headers: { authorization: 'Bearer anything-at-all-0123' },
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect([res.status, body.error.code]).toEqual([404, 'admin_disabled']);
      expect(body.error.message).toContain('SWITCHYARD_ADMIN_TOKEN');
    } finally {
      await plain.close();
    }
  });
});
