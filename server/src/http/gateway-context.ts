import type { Logger } from 'pino';
import type { GatewayCache } from '../cache/gateway-cache.ts';
import type { Clock } from '../clock.ts';
import type { GatewayConfig } from '../config.ts';
import type { PolicyHolder } from '../policy-runtime/policy-holder.ts';
import type { PolicyLifecycle } from '../policy-runtime/policy-lifecycle.ts';
import type { Authenticator } from '../request/authenticate.ts';
import type { TokenCounter } from '../request/count-tokens.ts';
import type { IdempotencyKeys } from '../request/idempotency-keys.ts';
import type { ResilienceContext } from '../request/plan-resilience.ts';
import type { GatewayStats } from '../state/gateway-stats.ts';
import type { GatewayState } from '../state/open-gateway-state.ts';
import type { ProtectionStores } from '../state/protection-stores.ts';
import type { KeyStore } from '../stores/key-store.ts';
import type { LedgerWriter } from '../stores/ledger-writer.ts';
import type { DecisionLog } from '../telemetry/decision-log.ts';
import type { DeploymentHealth } from '../telemetry/deployment-health.ts';
import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import type { Tracer } from '../telemetry/tracing.ts';

/** What every route plugin works with: built once by `buildApp` and passed as plugin options. */
export interface GatewayContext extends ResilienceContext {
  config: GatewayConfig;
  policies: PolicyHolder;
  /** Versions and rollouts, when the gateway has a version store (the server always does). */
  lifecycle?: PolicyLifecycle | undefined;
  keys: KeyStore;
  authenticator: Authenticator;
  logger: Logger;
  clock: Clock;
  /** Keys, ledger, and the limit/quota/breaker stores with their fail-over. */
  state: GatewayState;
  /** Rate-limit buckets and quota counters (shared or local, with fail-open / fail-closed). */
  protection: ProtectionStores;
  /** Writes a ledger row per proxied request, off the request path. */
  ledgerWriter: LedgerWriter;
  /** Counters of degraded modes (fail-open, fail-closed, dropped ledger rows), for metrics. */
  stats: GatewayStats;
  /** `Idempotency-Key` headers seen recently. */
  idempotencyKeys: IdempotencyKeys;
  /** The tokenizer used when an upstream reports no usage (loaded once). */
  tokenCounter: () => Promise<TokenCounter>;
  /** Whether the gateway is draining for shutdown (readiness fails, new requests get 503). */
  isShuttingDown(): boolean;
  /** The response caches (exact, semantic, embeddings), scoped and failing open. */
  cache: GatewayCache;
  /** The Prometheus metrics served at `GET /metrics`. */
  metrics: GatewayMetrics;
  /** Makes the request's spans; they are built only when it records (an exporter is configured). */
  tracer: Tracer;
  /** Writes the one structured line per proxied request and keeps the last ones for the admin API. */
  decisions: DecisionLog;
  /** Per-deployment success ratio, latency and last error (`GET /admin/v1/health`). */
  health: DeploymentHealth;
}
