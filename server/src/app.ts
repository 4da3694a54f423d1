import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.ts';
import type { GatewayConfig } from './config.ts';
import { type ErrorShape, httpError, sendHttpError, toHttpError } from './errors.ts';
import { adminKeysRoute } from './http/admin-keys.route.ts';
import { adminPolicyRoute } from './http/admin-policy.route.ts';
import { adminTenantsRoute } from './http/admin-tenants.route.ts';
import { chatRoute } from './http/chat.route.ts';
import { embeddingsRoute } from './http/embeddings.route.ts';
import type { GatewayContext } from './http/gateway-context.ts';
import { healthRoute } from './http/health.route.ts';
import { messagesRoute } from './http/messages.route.ts';
import { modelsRoute } from './http/models.route.ts';
import type { PolicyHolder } from './policy-runtime/policy-holder.ts';
import { Authenticator, type AuthenticatorOptions } from './request/authenticate.ts';
import { type RequestTrail, startTrail, trailHeaders, trailLogFields } from './request/request-trail.ts';
import { continueTrace, requestIdFrom } from './request/trace-context.ts';
import type { ApiKeyRecord, KeyStore } from './stores/key-store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the gateway learned about the request so far (headers, log line). */
    trail: RequestTrail;
    /** The authenticated API key (proxied routes only). */
    apiKey: ApiKeyRecord | undefined;
  }
  interface FastifyContextConfig {
    /** The error body format of the route (`anthropic` on `/v1/messages`). */
    errorShape?: ErrorShape;
  }
}

/** What the gateway is built from; everything with state or I/O is passed in. */
export interface GatewayDeps {
  config: GatewayConfig;
  /** Holds the active policy and its provider adapters (already loaded, or loading). */
  policies: PolicyHolder;
  keys: KeyStore;
  logger: Logger;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Key cache settings (default: 5 s TTL). */
  auth?: AuthenticatorOptions;
}

/** The gateway app plus the switch that starts draining it. */
export interface GatewayApp {
  app: FastifyInstance;
  ctx: GatewayContext;
  /** Marks the gateway as shutting down: `/readyz` fails and new requests get 503 `shutting_down`. */
  beginShutdown(): void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the gateway: Fastify with the OpenAI-shaped error handling, the request trail and log line,
 * and every route plugin. Does not listen; `startServer` does.
 */
export async function buildApp(deps: GatewayDeps): Promise<GatewayApp> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  let shuttingDown = false;
  const ctx: GatewayContext = {
    config,
    policies: deps.policies,
    keys: deps.keys,
    authenticator: new Authenticator(deps.keys, clock, deps.auth),
    logger,
    clock,
    isShuttingDown: () => shuttingDown,
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written when the response closes (below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Our own hook answers 503 in the OpenAI shape while draining.
    return503OnClosing: false,
    keepAliveTimeout: 72_000,
    requestTimeout: 0,
    forceCloseConnections: 'idle',
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    frameworkErrors: (_err, request, reply) => {
      reply.header('x-request-id', request.id);
      return sendHttpError(
        reply,
        httpError('invalid_request', { param: 'url', detail: 'the path is not valid percent-encoding' }),
      );
    },
  });

  app.decorateRequest('trail', null as unknown as RequestTrail);
  app.decorateRequest('apiKey', undefined);

  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    methodsByPath.set(route.url, methods);
  });

  app.addHook('onRequest', async (request, reply) => {
    const trail = startTrail(request.id, continueTrace(request.headers.traceparent), clock.now());
    request.trail = trail;
    reply.raw.once('close', () => {
      logRequest(logger, request, reply, clock);
      // While draining, a connection whose last response just ended must not linger in keep-alive.
      if (shuttingDown) setImmediate(() => app.server.closeIdleConnections());
    });
    if (shuttingDown && !request.url.startsWith('/healthz') && !request.url.startsWith('/readyz')) {
      reply.header('connection', 'close');
      throw httpError('shutting_down', {}, { retryAfterMs: 1000 });
    }
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // An empty body is no body: routes that need one say so in their own words.
    if ((body as Buffer).length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(httpError('invalid_json', { detail: 'the body is not valid UTF-8' }), undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      // Whatever the parser rejects (syntax, prototype poisoning, nesting too deep) is the body's fault.
      if (err) done(httpError('invalid_json', { detail: lowerFirst(err.message) }), undefined);
      else done(null, value);
    });
  });

  app.setErrorHandler((err, request, reply) => {
    const error = toHttpError(err, {
      bodyLimit: config.bodyLimitBytes,
      requestId: request.id,
      contentType: request.headers['content-type'],
    });
    if (error.status >= 500 && error.code === 'internal_error')
      logger.error({ err, reqId: request.id }, 'unhandled error');
    const trail = request.trail;
    if (trail) {
      trail.outcome ??= 'error';
      trail.errorCode = error.code;
      reply.headers(trailHeaders(trail));
    } else {
      reply.header('x-request-id', request.id);
    }
    return sendHttpError(reply, error, request.routeOptions.config?.errorShape ?? 'openai');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '') || '/';
    const allowed = methodsByPath.get(path);
    reply.header('x-request-id', request.id);
    if (allowed && !allowed.has(request.method)) {
      const list = [...allowed].filter((m) => m !== 'HEAD').sort();
      reply.header('allow', list.join(', '));
      return sendHttpError(
        reply,
        httpError('method_not_allowed', { method: request.method, path, allowed: list.join(', ') }),
      );
    }
    return sendHttpError(reply, httpError('not_found', { method: request.method, path: path.slice(0, 200) }));
  });

  await app.register(healthRoute, { ctx });
  await app.register(chatRoute, { ctx });
  await app.register(messagesRoute, { ctx });
  await app.register(embeddingsRoute, { ctx });
  await app.register(modelsRoute, { ctx });
  await app.register(adminKeysRoute, { ctx });
  await app.register(adminTenantsRoute, { ctx });
  await app.register(adminPolicyRoute, { ctx });

  return {
    app,
    ctx,
    beginShutdown: () => {
      shuttingDown = true;
    },
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply, clock: Clock): void {
  const trail = request.trail;
  if (!trail) return;
  if (!reply.raw.writableFinished) trail.outcome = 'cancelled';
  const path = request.routeOptions.url ?? request.url.split('?')[0];
  const fields = trailLogFields(trail, reply.raw.statusCode, clock.now());
  logger.info({ ...fields, method: request.method, path }, 'request');
}
