import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.ts';
import type { KeyStore } from '../stores/key-store.ts';
import type { LedgerStore } from '../stores/ledger-store.ts';
import { LedgerWriter, type LedgerWriterOptions } from '../stores/ledger-writer.ts';
import { MemoryLedgerStore } from '../stores/memory/memory-ledger-store.ts';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';
import { RedisBreakerStore } from '../stores/redis/redis-breaker-store.ts';
import { openRedisConnection } from '../stores/redis/redis-connection.ts';
import { RedisLimitStore } from '../stores/redis/redis-limit-store.ts';
import { RedisQuotaStore } from '../stores/redis/redis-quota-store.ts';
import { createGatewayStats, type GatewayStats } from './gateway-stats.ts';
import { openDurableStores } from './open-durable-stores.ts';
import { ProtectionStores } from './protection-stores.ts';

/**
 * Everything the gateway keeps state in, chosen by configuration: limits, quotas and breakers in
 * memory or Redis (`protection`); keys and the usage ledger in SQLite or Postgres.
 */
export interface GatewayState {
  /** Where buckets, quota counters and breakers live. */
  readonly sharedKind: 'memory' | 'redis';
  /** Where keys and the ledger live. */
  readonly durableKind: 'memory' | 'sqlite' | 'postgres';
  readonly keys: KeyStore;
  readonly ledger: LedgerStore;
  /** Policy versions, rollouts and their audit log (absent for in-memory state built by tests). */
  readonly versions: PolicyVersionStore | undefined;
  /** Writes ledger rows in batches, off the request path. */
  readonly ledgerWriter: LedgerWriter;
  readonly protection: ProtectionStores;
  readonly stats: GatewayStats;
  /** The Redis connection shared by replicas (response cache and semantic index use it too), if configured. */
  readonly redis: Redis | undefined;
  /** Prefix of every Redis key. */
  readonly redisPrefix: string;
  /** Flushes the ledger writer first, then closes the stores and the connections opened for them. */
  close(): Promise<void>;
}

/** Options of `openGatewayState`. */
export interface OpenGatewayStateOptions {
  logger: Logger;
  /** Ledger writer settings (batching, retries); drops are always logged and counted. */
  ledgerWriter?: Omit<LedgerWriterOptions, 'onDrop' | 'onRetry'> | undefined;
}

/**
 * Opens the state the configuration names: `SWITCHYARD_REDIS_URL` → Redis for limits, quotas and
 * breakers (else process memory); `SWITCHYARD_DATABASE_URL` → Postgres for keys and the ledger,
 * migrated here (else the SQLite file under the state directory). Fails with a message naming
 * the variable when a store cannot be reached at startup; once running, a Redis outage is handled
 * per tenant (fail-open / fail-closed) and a slow ledger never slows a request.
 */
export async function openGatewayState(
  config: GatewayConfig,
  options: OpenGatewayStateOptions,
): Promise<GatewayState> {
  const { logger } = options;
  const durable = await openDurableStores(config, logger);
  let redis: Redis | undefined;
  if (config.redisUrl) {
    try {
      redis = await openRedisConnection(config.redisUrl, {
        connectionName: 'switchyard-gateway',
        onError: throttledRedisErrorLog(logger),
      });
    } catch (err) {
      await durable.close();
      throw new Error(`\`SWITCHYARD_REDIS_URL\`: ${(err as Error).message}`);
    }
  }
  const client = redis;
  return assembleGatewayState({
    keys: durable.keys,
    ledger: durable.ledger,
    versions: durable.versions,
    durableKind: durable.kind,
    redis,
    redisPrefix: config.redisPrefix,
    logger,
    ledgerWriter: options.ledgerWriter,
    cleanups: [
      () => durable.close(),
      async () => {
        if (!client) return;
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      },
    ],
  });
}

/** What `assembleGatewayState` builds from: stores already open, plus what closing them takes. */
export interface GatewayStateParts {
  keys: KeyStore;
  /** Default: an in-memory ledger. */
  ledger?: LedgerStore | undefined;
  /** Policy versions and rollouts; without them the gateway serves its policy folder only. */
  versions?: PolicyVersionStore | undefined;
  durableKind?: GatewayState['durableKind'] | undefined;
  /** A Redis connection for shared limits, quotas and breakers (not closed by the state unless in `cleanups`). */
  redis?: Redis | undefined;
  redisPrefix?: string | undefined;
  logger: Logger;
  ledgerWriter?: Omit<LedgerWriterOptions, 'onDrop' | 'onRetry'> | undefined;
  /** Run by `close()` in reverse order, after the ledger was flushed. */
  cleanups?: (() => Promise<void> | void)[] | undefined;
  /** Fail-over settings of the protection stores. */
  retrySharedAfterMs?: number | undefined;
}

/** Builds the state from stores already open (tests and embedders pass their own). */
export function assembleGatewayState(parts: GatewayStateParts): GatewayState {
  const { logger } = parts;
  const stats = createGatewayStats();
  const ledger = parts.ledger ?? new MemoryLedgerStore();
  const prefix = parts.redisPrefix ?? 'sy:';
  const protection = new ProtectionStores({
    shared: parts.redis && {
      name: 'redis',
      limits: new RedisLimitStore(parts.redis, { prefix }),
      quotas: new RedisQuotaStore(parts.redis, { prefix }),
      breakers: new RedisBreakerStore(parts.redis, { prefix }),
    },
    logger,
    stats,
    retrySharedAfterMs: parts.retrySharedAfterMs,
  });
  const ledgerWriter = new LedgerWriter(ledger, {
    ...parts.ledgerWriter,
    onDrop: (event) => {
      stats.ledgerDropped += event.rows;
      logger.warn(
        { rows: event.rows, reason: event.reason, err: event.error, droppedTotal: stats.ledgerDropped },
        'usage ledger rows dropped',
      );
    },
    onRetry: (err, attempt) => logger.warn({ err, attempt }, 'usage ledger write failed; retrying'),
  });
  let closing: Promise<void> | undefined;
  return {
    sharedKind: parts.redis ? 'redis' : 'memory',
    durableKind: parts.durableKind ?? 'memory',
    keys: parts.keys,
    ledger,
    versions: parts.versions,
    ledgerWriter,
    protection,
    stats,
    redis: parts.redis,
    redisPrefix: prefix,
    close() {
      closing ??= (async () => {
        await ledgerWriter.close();
        await protection.close();
        await parts.keys.close();
        await ledger.close();
        for (const cleanup of [...(parts.cleanups ?? [])].reverse()) await cleanup();
      })();
      return closing;
    },
  };
}

/** Logs Redis connection errors at most once every 10 s (ioredis retries several times a second). */
function throttledRedisErrorLog(logger: Logger): (err: Error) => void {
  let lastMs = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastMs < 10_000) return;
    lastMs = now;
    logger.warn({ err: err.message }, 'redis connection error; reconnecting');
  };
}
