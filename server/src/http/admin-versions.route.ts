import { formatDiagnostic, type GateVerdict } from '@switchyard/engine';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { httpError, openAiErrorBody } from '../errors.ts';
import { PolicyNotPublishableError, publishPolicyVersion } from '../policy-runtime/publish-policy-version.ts';
import type { PolicyVersion, PolicyVersionStore } from '../stores/policy-version-store.ts';
import { parseBody } from './parse-body.ts';

/** What the admin routes of the policy lifecycle work with; the server builds them once. */
export interface AdminLifecycleDeps {
  versions: PolicyVersionStore;
  clock: Clock;
  /** Guards every route (the server passes `adminAuthHook(ctx)`). */
  authorize: (request: FastifyRequest) => Promise<void>;
}

const publishSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        path: z.string().regex(/^[A-Za-z0-9._-]+\.ya?ml$/, { error: 'expected a file name ending in .yaml' }),
        text: z.string().max(1024 * 1024),
      }),
    )
    .min(1)
    .max(64),
  message: z.string().max(2000).optional(),
  gitCommit: z.string().max(100).optional(),
  author: z.string().max(200).optional(),
});

/**
 * Who made an admin request: the `x-switchyard-actor` header (the admin token is shared, so this is
 * what the caller says it is), else `admin-api`. Goes to the audit log.
 */
export function adminActor(request: FastifyRequest): string {
  const header = request.headers['x-switchyard-actor'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value ? value.slice(0, 100) : 'admin-api';
}

/** A version as listed: everything but the file texts. */
export function viewVersionSummary(v: PolicyVersion, stable: string | undefined): Record<string, unknown> {
  return {
    object: 'policy.version',
    id: `${v.name}@${v.version}`,
    version: v.version,
    name: v.name,
    hash: v.hash,
    stable: v.version === stable,
    createdAt: new Date(v.createdAt).toISOString(),
    gitCommit: v.gitCommit ?? null,
    author: v.author ?? null,
    message: v.message ?? null,
    files: v.files.map((f) => f.path),
    verdict: v.verdict ? { pass: v.verdict.pass, summary: v.verdict.summary } : null,
  };
}

function firstString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function limitOf(v: unknown, max: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : Math.min(100, max);
}

/**
 * `/admin/v1/policy/versions` and `/admin/v1/policy/audit`: publish (compiled first; an invalid
 * policy is refused with every error), list and show versions, attach a gate verdict once, and read
 * the audit log. Register with `{ versions, clock, authorize: adminAuthHook(ctx) }`.
 */
export const adminVersionsRoute: FastifyPluginAsync<AdminLifecycleDeps> = async (app, deps) => {
  app.addHook('onRequest', deps.authorize);

  app.get('/admin/v1/policy/versions', async (request) => {
    const q = request.query as Record<string, unknown>;
    const list = await deps.versions.list({ name: firstString(q.name), limit: limitOf(q.limit, 1000) });
    const stable = new Map<string, string | undefined>();
    for (const v of list)
      if (!stable.has(v.name)) stable.set(v.name, await deps.versions.stableVersion(v.name));
    return { object: 'list', data: list.map((v) => viewVersionSummary(v, stable.get(v.name))) };
  });

  app.get('/admin/v1/policy/versions/:version', async (request) => {
    const { version } = request.params as { version: string };
    const v = await deps.versions.get(version).catch((err: Error) => {
      throw httpError('invalid_request', { param: 'version', detail: err.message }, { param: 'version' });
    });
    if (!v) throw httpError('policy_version_not_found', { ref: version });
    return {
      ...viewVersionSummary(v, await deps.versions.stableVersion(v.name)),
      files: v.files,
      verdict: v.verdict ?? null,
    };
  });

  app.post('/admin/v1/policy/versions', async (request, reply) => {
    const body = parseBody(publishSchema, request.body ?? {});
    try {
      const { version, created } = await publishPolicyVersion(deps.versions, body.files, {
        actor: adminActor(request),
        message: body.message,
        gitCommit: body.gitCommit,
        author: body.author,
        nowMs: deps.clock.now(),
      });
      reply.code(created ? 201 : 200);
      return {
        ...viewVersionSummary(version, await deps.versions.stableVersion(version.name)),
        created,
      };
    } catch (err) {
      if (!(err instanceof PolicyNotPublishableError)) throw err;
      reply.code(422);
      return {
        ...openAiErrorBody(httpError('policy_not_publishable', { count: err.errors.length })),
        errors: err.errors.map((d) => ({ ...d, text: formatDiagnostic(d) })),
      };
    }
  });

  app.post('/admin/v1/policy/versions/:version/verdict', async (request) => {
    const { version } = request.params as { version: string };
    const body = request.body as { verdict?: GateVerdict } | undefined;
    const verdict = body?.verdict;
    if (
      !verdict ||
      typeof verdict !== 'object' ||
      typeof verdict.pass !== 'boolean' ||
      !Array.isArray(verdict.suites)
    )
      throw httpError(
        'invalid_request',
        { param: 'verdict', detail: 'expected the `verdict.json` the eval gate wrote' },
        { param: 'verdict' },
      );
    const v = await deps.versions.get(version);
    if (!v) throw httpError('policy_version_not_found', { ref: version });
    const outcome = await deps.versions.attachVerdict(v.version, verdict, {
      actor: adminActor(request),
      nowMs: deps.clock.now(),
    });
    if (outcome === 'already') throw httpError('verdict_already_attached', { version: v.version });
    return { version: v.version, verdict: { pass: verdict.pass, summary: verdict.summary } };
  });

  app.get('/admin/v1/policy/audit', async (request) => {
    const q = request.query as Record<string, unknown>;
    const subject = firstString(q.subject);
    const entries = await deps.versions.audit({
      subjects: subject ? subject.split(',') : undefined,
      afterSeq: Number.isInteger(Number(q.after)) ? Number(q.after) : undefined,
      limit: limitOf(q.limit, 1000),
    });
    return {
      object: 'list',
      data: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    };
  });
};
