import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApp, type GatewayApp } from '../app.ts';
import { type GatewayConfig, loadConfig } from '../config.ts';
import { type AdapterFactory, PolicyHolder } from '../policy-runtime/policy-holder.ts';
import { assembleGatewayState, type GatewayState } from '../state/open-gateway-state.ts';
import { issueApiKey, type NewApiKey } from '../stores/api-key.ts';
import type { KeyStore } from '../stores/key-store.ts';
import type { LedgerAggregate, LedgerQuery, LedgerRow, LedgerStore } from '../stores/ledger-store.ts';
import type { LedgerWriterOptions } from '../stores/ledger-writer.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqliteKeyStore } from '../stores/sqlite/sqlite-key-store.ts';
import { SqliteLedgerStore } from '../stores/sqlite/sqlite-ledger-store.ts';
import { otlpExporterFromEnv } from '../telemetry/otlp-exporter.ts';

/** The repository's default policy folder. */
export const defaultPolicyDir = new URL('../../../policies/default', import.meta.url).pathname;

/** A gateway listening on 127.0.0.1:0 for one test file, with a real SQLite key store in memory. */
export interface TestGateway {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `<url>/v1`, the SDKs' base URL. */
  baseURL: string;
  gateway: GatewayApp;
  policies: PolicyHolder;
  keys: KeyStore;
  config: GatewayConfig;
  /** Keys, ledger, limits, quotas and breakers of the gateway. */
  state: GatewayState;
  /** A key of tenant `default` that may use every model. */
  apiKey: string;
  /** Issues another key. */
  issueKey(spec: NewApiKey): Promise<{ key: string; id: string }>;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
  /** The one log line of the request with this id (a proxied call's is its decision line), once written. */
  requestLog(requestId: string): Promise<Record<string, unknown>>;
  /** The ledger rows written so far (the writer is flushed first), oldest first. */
  ledgerRows(): Promise<LedgerRow[]>;
  /** The ledger row of one request, once its response has closed and its row was written. */
  ledgerRow(requestId: string): Promise<LedgerRow>;
  /** Rewrites a file of the policy folder (for reload tests; only with `policyText`). */
  writePolicy(text: string): void;
  close(): Promise<void>;
}

/** Options of `startTestGateway`. */
export interface TestGatewayOptions {
  /** Policy text written to a temporary folder; default: the repository's `policies/default`. */
  policyText?: string;
  /**
   * Environment for `${env:…}` references, settings such as `SWITCHYARD_BODY_LIMIT`, and the
   * `OTEL_*` variables of trace export (the test process's own environment is never read).
   */
  env?: Record<string, string>;
  createAdapter?: AdapterFactory;
  /** A Redis for limits, quotas and breakers (default: in memory); the test owns the connection. */
  redis?: Redis | undefined;
  /** Key prefix on that Redis. */
  redisPrefix?: string | undefined;
  /** The ledger store behind the writer (default: SQLite in memory). */
  ledger?: LedgerStore | undefined;
  /** Ledger writer settings. */
  ledgerWriter?: Omit<LedgerWriterOptions, 'onDrop' | 'onRetry'> | undefined;
  /** How long the protection stores skip a failing Redis before trying it again (default 1000 ms). */
  retrySharedAfterMs?: number | undefined;
  /** Retry jitter (default `Math.random`). */
  random?: () => number;
}

/** Keeps every row it appends (for assertions), then hands them to the real store. */
class RecordingLedgerStore implements LedgerStore {
  private readonly inner: LedgerStore;
  readonly rows: LedgerRow[] = [];
  constructor(inner: LedgerStore) {
    this.inner = inner;
  }
  async append(rows: readonly LedgerRow[]): Promise<void> {
    await this.inner.append(rows);
    this.rows.push(...rows);
  }
  query(query: LedgerQuery): Promise<LedgerAggregate[]> {
    return this.inner.query(query);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Starts a gateway for a test file; call `close()` in `afterAll`. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  let tempDir: string | undefined;
  let policyDir = defaultPolicyDir;
  if (options.policyText !== undefined) {
    tempDir = mkdtempSync(join(tmpdir(), 'sy-policy-'));
    policyDir = tempDir;
    writeFileSync(join(tempDir, 'policy.yaml'), options.policyText);
  }
  const env = options.env ?? {};
  const config = loadConfig(
    { policy: policyDir, port: '0' },
    { SWITCHYARD_ADMIN_TOKEN: 'test-admin-token-0123456789', ...env },
  );
  const logs: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of waiters.splice(0)) wake();
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const policies = new PolicyHolder(policyDir, {
    logger,
    clock: { now: () => Date.now() },
    env,
    createAdapter: options.createAdapter,
  });
  const loaded = await policies.reload();
  if (!loaded.ok) throw new Error(`test policy is invalid: ${JSON.stringify(loaded.errors)}`);
  const db = openStateDatabase(':memory:');
  const keys = new SqliteKeyStore(db);
  const ledger = new RecordingLedgerStore(options.ledger ?? new SqliteLedgerStore(db));
  const state = assembleGatewayState({
    keys,
    ledger,
    durableKind: 'sqlite',
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    logger,
    ledgerWriter: options.ledgerWriter,
    retrySharedAfterMs: options.retrySharedAfterMs,
  });
  const gateway = await buildApp({
    config,
    policies,
    state,
    logger,
    random: options.random,
    spanExporter: otlpExporterFromEnv(env, { flushIntervalMs: 50 }) ?? null,
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  const { key: apiKey } = await issueApiKey(keys, { tenant: 'default', name: 'test' }, Date.now());
  return {
    url,
    baseURL: `${url}/v1`,
    gateway,
    policies,
    keys,
    config,
    state,
    apiKey,
    async issueKey(spec) {
      const { key, record } = await issueApiKey(keys, spec, Date.now());
      return { key, id: record.id };
    },
    logs,
    async requestLog(requestId) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const line = logs.find(
          (l) => l.msg === 'request' && (l.requestId === requestId || l.reqId === requestId),
        );
        if (line) return line;
        if (Date.now() > deadline) throw new Error(`no log line for request \`${requestId}\``);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    async ledgerRows() {
      await state.ledgerWriter.flush();
      return [...ledger.rows];
    },
    async ledgerRow(requestId) {
      const deadline = Date.now() + 5000;
      for (;;) {
        await state.ledgerWriter.flush();
        const row = ledger.rows.find((r) => r.requestId === requestId);
        if (row) return row;
        if (Date.now() > deadline) throw new Error(`no ledger row for request \`${requestId}\``);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    writePolicy(text) {
      if (!tempDir) throw new Error('writePolicy needs a gateway started with `policyText`');
      writeFileSync(join(tempDir, 'policy.yaml'), text);
    },
    async close() {
      await gateway.app.close();
      await gateway.accountingDone();
      await state.close();
      await policies.close();
      db.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
