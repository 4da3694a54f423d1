import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { GatewayConfig } from '../config.ts';
import type { PolicyHolder } from '../policy-runtime/policy-holder.ts';
import type { Authenticator } from '../request/authenticate.ts';
import type { KeyStore } from '../stores/key-store.ts';

/** What every route plugin works with: built once by `buildApp` and passed as plugin options. */
export interface GatewayContext {
  config: GatewayConfig;
  policies: PolicyHolder;
  keys: KeyStore;
  authenticator: Authenticator;
  logger: Logger;
  clock: Clock;
  /** Whether the gateway is draining for shutdown (readiness fails, new requests get 503). */
  isShuttingDown(): boolean;
}
