/**
 * @switchyard/server: the gateway (Fastify + undici) and what embeds or tests it. The `switchyard`
 * CLI lives in `cli/`; this entry point is for code that starts or builds the gateway itself.
 */
export { buildApp, type GatewayApp, type GatewayDeps } from './app.ts';
export { type Clock, systemClock } from './clock.ts';
export { ConfigError, type ConfigFlags, type GatewayConfig, loadConfig } from './config.ts';
export { HttpError, type HttpErrorCode, httpErrorCatalog } from './errors.ts';
export {
  type ActivePolicy,
  type AdapterFactory,
  PolicyHolder,
  type ReloadResult,
} from './policy-runtime/policy-holder.ts';
export type {
  AttemptRecord,
  AttemptWrapper,
  ProviderBinding,
  UpstreamAttempt,
  UpstreamTarget,
} from './request/execute-plan.ts';
export { type RunningServer, type StartServerOptions, startServer } from './server.ts';
export type { ApiKeyRecord, KeyStore } from './stores/key-store.ts';
