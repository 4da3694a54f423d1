import { readFileSync } from 'node:fs';
import type { DenialCode } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { httpError, httpErrorCatalog, openAiErrorBody, toHttpError } from './errors.ts';

const errorsPage = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** `{status, type, code}` of each row of the table under `## HTTP errors`. */
function documentedHttpErrors(): { status: number; type: string; code: string }[] {
  const lines = errorsPage.split('\n');
  const start = lines.findIndex((l) => l.startsWith('## HTTP errors'));
  if (start === -1) throw new Error('docs/errors.md has no `## HTTP errors` section');
  const rows: { status: number; type: string; code: string }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    const m = /^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|\s*`([a-z_]+)`\s*\|/.exec(line);
    if (m) rows.push({ status: Number(m[1]), type: m[2]!, code: m[3]! });
  }
  return rows;
}

describe('the HTTP error catalog', () => {
  it('is documented in docs/errors.md row for row, with the same status and type', () => {
    const documented = documentedHttpErrors();
    const catalog = Object.entries(httpErrorCatalog).map(([code, e]) => ({
      status: e.status,
      type: e.type,
      code,
    }));
    expect(documented.map((r) => r.code)).toEqual([...new Set(documented.map((r) => r.code))]);
    expect(new Set(documented.map((r) => JSON.stringify(r)))).toEqual(
      new Set(catalog.map((r) => JSON.stringify(r))),
    );
  });

  it('has an entry for every engine denial code', () => {
    const denials: DenialCode[] = [
      'tenant_not_allowed',
      'model_not_allowed',
      'model_not_found',
      'unsupported_capability',
      'context_length_exceeded',
      'no_healthy_deployment',
      'quota_exceeded',
      'rate_limit_exceeded',
    ];
    for (const code of denials) expect(httpErrorCatalog).toHaveProperty(code);
  });

  it('renders the OpenAI error shape with exactly message, type, param and code', () => {
    const body = openAiErrorBody(
      httpError(
        'invalid_request',
        { param: 'messages.0.role', detail: 'expected one of `user`' },
        { param: 'messages.0.role' },
      ),
    );
    expect(body).toEqual({
      error: {
        message: 'invalid `messages.0.role`: expected one of `user`',
        type: 'invalid_request_error',
        param: 'messages.0.role',
        code: 'invalid_request',
      },
    });
  });

  it('writes messages in lowercase on one line', () => {
    for (const [code, entry] of Object.entries(httpErrorCatalog)) {
      expect(entry.message, code).not.toMatch(/\n/);
      expect(entry.message.charAt(0), code).toBe(entry.message.charAt(0).toLowerCase());
    }
  });

  it('classifies client mistakes Fastify reports as 4xx, and only unknown failures as 500', () => {
    const ctx = { bodyLimit: 10, requestId: 'req_1' };
    expect(
      toHttpError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), ctx)
        .status,
    ).toBe(413);
    expect(
      toHttpError(
        Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }),
        ctx,
      ).status,
    ).toBe(415);
    expect(toHttpError(new SyntaxError('Unexpected token'), ctx).code).toBe('invalid_json');
    expect(toHttpError(Object.assign(new Error('Bad header'), { statusCode: 431 }), ctx).status).toBe(400);
    const bug = toHttpError(new TypeError('x is undefined'), ctx);
    expect([bug.status, bug.code, bug.message]).toEqual([
      500,
      'internal_error',
      'internal error; the request id is `req_1`',
    ]);
  });
});
