import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { httpError } from '../errors.ts';
import type { GatewayContext } from './gateway-context.ts';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * An `onRequest` hook guarding `/admin/v1/*`: 404 when no admin token is configured (the admin API
 * is off), 401 unless `Authorization: Bearer <token>` matches, compared in constant time.
 */
export function adminAuthHook(ctx: GatewayContext) {
  const expected = ctx.config.adminToken === undefined ? undefined : digest(ctx.config.adminToken);
  return async (request: FastifyRequest): Promise<void> => {
    if (!expected) throw httpError('admin_disabled');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) throw httpError('invalid_admin_token');
  };
}
