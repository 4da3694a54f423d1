/**
 * @switchyard/server: the gateway (Fastify + undici) and what embeds or tests it. The `switchyard`
 * CLI lives in `cli/`; this entry point is for code that starts or builds the gateway itself.
 */
export { buildApp, type GatewayApp, type GatewayDeps } from './app.ts';
export { renderPolicyDiff, sampleRequests } from './cli/policy-diff.command.ts';
export { type PolicyFolderTestRun, testPolicyFolder } from './cli/policy-test.command.ts';
export { renderDiagnostics } from './cli/print-diagnostics.ts';
export { type Clock, systemClock } from './clock.ts';
export { ConfigError, type ConfigFlags, type GatewayConfig, loadConfig } from './config.ts';
export { HttpError, type HttpErrorCode, httpErrorCatalog } from './errors.ts';
export { compilePolicyFolder, loadPolicyFolder } from './policy-runtime/load-policy-folder.ts';
export {
  type ActivePolicy,
  type AdapterFactory,
  PolicyHolder,
  type ReloadResult,
} from './policy-runtime/policy-holder.ts';
export { publishPolicyVersion } from './policy-runtime/publish-policy-version.ts';
export {
  type Actor,
  RolloutController,
  type RolloutOutcome,
  type RolloutReport,
} from './policy-runtime/rollout-controller.ts';
export {
  type StickySubject,
  type VersionLease,
  type VersionPick,
  VersionRouter,
  type VersionRouterOptions,
} from './policy-runtime/version-router.ts';
export { createProviderAdapter } from './providers/create-provider-adapter.ts';
export { type ProviderAdapter, UpstreamError } from './providers/provider.ts';
export type {
  AttemptRecord,
  AttemptWrapper,
  ProviderBinding,
  UpstreamAttempt,
  UpstreamTarget,
} from './request/execute-plan.ts';
export { newRequestId } from './request/trace-context.ts';
export { type RunningServer, type StartServerOptions, startServer } from './server.ts';
export type { ApiKeyRecord, KeyStore } from './stores/key-store.ts';
export type { LedgerRow, LedgerStore } from './stores/ledger-store.ts';
export type { AuditEntry, PolicyVersion, PolicyVersionStore } from './stores/policy-version-store.ts';
export { openStateDatabase } from './stores/sqlite/open-state-database.ts';
export { SqliteLedgerStore } from './stores/sqlite/sqlite-ledger-store.ts';
export { SqlitePolicyVersionStore } from './stores/sqlite/sqlite-policy-version-store.ts';
