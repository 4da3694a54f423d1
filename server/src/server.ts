import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type CompiledPolicy, formatDiagnostic } from '@switchyard/engine';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { buildApp } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { GatewayConfig } from './config.ts';
import { type AdapterFactory, PolicyHolder } from './policy-runtime/policy-holder.ts';
import { PolicyLifecycle } from './policy-runtime/policy-lifecycle.ts';
import { type GatewayState, openGatewayState } from './state/open-gateway-state.ts';
import { hashApiKey, issueApiKey } from './stores/api-key.ts';
import type { KeyStore } from './stores/key-store.ts';

/** The development key's file in the state directory. */
export const devKeyFile = 'dev-key';

/** A listening gateway. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  app: FastifyInstance;
  /** The development key for tenant `default`. */
  devKey: string;
  /** Where keys, the ledger, limits, quotas and breakers live. */
  state: GatewayState;
  /** Published versions and rollouts this gateway serves. */
  lifecycle: PolicyLifecycle | undefined;
  /** Drains (in-flight requests and streams may finish until the shutdown deadline) and closes. */
  shutdown(): Promise<void>;
  /** Resolves once the server has shut down (after a signal or `shutdown()`). */
  closed: Promise<void>;
}

/** Options of `startServer`. */
export interface StartServerOptions {
  /** Where the startup banner goes (default `process.stdout`). */
  out?: NodeJS.WritableStream;
  /**
   * Default: pino at the configured level, to stdout through an asynchronous destination (lines
   * are written in batches off the request path; shutdown waits until they are all out).
   */
  logger?: Logger;
  clock?: Clock;
  /** Whether SIGTERM and SIGINT start a graceful shutdown (default true). */
  handleSignals?: boolean;
  /** Creates provider adapters (default: the built-in adapters). */
  createAdapter?: AdapterFactory;
}

/**
 * The development key: read from `<stateDir>/dev-key` when it is still valid, else a new key for
 * tenant `default` written there (mode 0600), so every start prints the same working key.
 */
export async function ensureDevKey(keys: KeyStore, stateDir: string, clock: Clock): Promise<string> {
  const path = join(stateDir, devKeyFile);
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch {
    existing = undefined;
  }
  if (existing) {
    const record = await keys.findByHash(hashApiKey(existing));
    if (record && !record.disabled && (record.expiresAt === undefined || record.expiresAt > clock.now()))
      return existing;
  }
  const { key } = await issueApiKey(keys, { tenant: 'default', name: 'development key' }, clock.now());
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return key;
}

function exampleModel(policy: CompiledPolicy): string {
  for (const route of policy.spec.routes) {
    const model = route.match?.model;
    const name = Array.isArray(model) ? model[0] : model;
    if (name) return name;
  }
  return policy.models.keys().next().value ?? 'auto';
}

function banner(url: string, key: string, policy: CompiledPolicy): string {
  const body = JSON.stringify({
    model: exampleModel(policy),
    messages: [{ role: 'user', content: 'Hello!' }],
  });
  return [
    `switchyard listening on ${url} (policy ${policy.id})`,
    '',
    `  development key (tenant default): ${key}`,
    '',
    '  try it:',
    `    curl ${url}/v1/chat/completions \\`,
    `      -H "Authorization: Bearer ${key}" \\`,
    `      -H "content-type: application/json" \\`,
    `      -d '${body}'`,
    '',
    `  OpenAI SDK: new OpenAI({ baseURL: '${url}/v1', apiKey: '${key}' })`,
    '',
  ].join('\n');
}

/**
 * Starts the gateway: opens its state (SQLite or Postgres for keys and the ledger, memory or Redis
 * for limits, quotas and breakers, as configured), makes sure a development key exists, loads the
 * policy (an invalid policy stops startup with every error listed), listens, prints the base URL,
 * the key, a `curl` and the SDK settings. SIGTERM/SIGINT stop accepting connections, let in-flight
 * requests and streams finish until `shutdownTimeoutMs`, then flush the usage ledger and close
 * the stores.
 */
export async function startServer(
  config: GatewayConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const out = options.out ?? process.stdout;
  const clock = options.clock ?? systemClock;
  // Asynchronous: a log line never blocks a request on a write system call. `minLength: 1` still
  // writes every line at once, and makes `flush(cb)` wait until what is queued is out.
  const destination = options.logger ? undefined : pino.destination({ dest: 1, sync: false, minLength: 1 });
  const logger =
    options.logger ?? pino({ level: config.logLevel, base: { service: 'switchyard' } }, destination);
  mkdirSync(config.stateDir, { recursive: true });
  const state = await openGatewayState(config, { logger }).catch(async (err: unknown) => {
    await flushLog(destination);
    throw err;
  });
  const keys = state.keys;
  const policies = new PolicyHolder(config.policyDir, {
    logger,
    clock,
    createAdapter: options.createAdapter,
  });
  const loaded = await policies.reload();
  if (!loaded.ok) {
    await state.close();
    await policies.close();
    await flushLog(destination);
    throw new Error(
      `policy \`${config.policyDir}\` is invalid:\n${loaded.errors.map(formatDiagnostic).join('\n')}`,
    );
  }
  const devKey = await ensureDevKey(keys, config.stateDir, clock);
  // The tokenizer (about a second of CPU and 60 MB) loads on first need: only when an upstream reports no usage.
  // Publishes the folder as a version and serves rollouts (stable + candidate) from the version store.
  const lifecycle = state.versions
    ? await PolicyLifecycle.start({
        store: state.versions,
        ledger: state.ledger,
        folder: policies,
        logger,
        clock,
        createAdapter: options.createAdapter,
      }).catch(async (err: unknown) => {
        await state.close();
        await policies.close();
        await flushLog(destination);
        throw err;
      })
    : undefined;
  const gateway = await buildApp({ config, policies, lifecycle, state, logger, clock });
  const { app } = gateway;
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
  if (config.watch) policies.watch();

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let shutting: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shutting ??= (async () => {
      logger.info({ deadlineMs: config.shutdownTimeoutMs }, 'shutting down: draining in-flight requests');
      gateway.beginShutdown();
      const deadline = setTimeout(() => {
        logger.warn('shutdown deadline reached: closing the remaining connections');
        app.server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
        // Settles of the last requests first, then the ledger is flushed as the state closes.
        await gateway.accountingDone();
        await lifecycle
          ?.close()
          .catch((err: unknown) => logger.error({ err }, 'closing the versions failed'));
        await state.close().catch((err: unknown) => logger.error({ err }, 'closing the state failed'));
        await policies.close();
        logger.info(
          { ledgerWritten: state.ledgerWriter.written, ledgerDropped: state.stats.ledgerDropped },
          'stopped',
        );
        await flushLog(destination);
        resolveClosed();
      }
    })();
    return shutting;
  };

  if (options.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (shutting) {
        // A second signal: stop waiting for stragglers.
        app.server.closeAllConnections();
        return;
      }
      logger.info({ signal }, 'signal received');
      shutdown().catch((err: unknown) => logger.error({ err }, 'shutdown failed'));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    closed.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }

  out.write(`${banner(url, devKey, loaded.policy)}\n`);
  logger.info(
    { shared: state.sharedKind, durable: state.durableKind },
    'state: limits, quotas and breakers in %s; keys and usage ledger in %s',
    state.sharedKind,
    state.durableKind,
  );
  return { url, app, devKey, state, lifecycle, shutdown, closed };
}

/** Resolves once every line queued on an asynchronous log destination so far has been written. */
function flushLog(destination: ReturnType<typeof pino.destination> | undefined): Promise<void> {
  if (!destination) return Promise.resolve();
  return new Promise<void>((resolve) => {
    try {
      destination.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
