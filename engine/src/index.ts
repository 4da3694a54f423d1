/**
 * @switchyard/engine: the pure policy engine. Parse → validate → compile a policy, then `decide()`
 * what to do with a request. No I/O, no clock, no randomness: time and randomness come in `Env`.
 */

export { parseDuration } from './catalog/duration.schema.ts';
export type { Capability, DeploymentSpec, ModelSpec } from './catalog/models.schema.ts';
export type { ProviderSpec } from './catalog/providers.schema.ts';
export { providerTypes } from './catalog/providers.schema.ts';
export type { TenantSpec } from './catalog/tenants.schema.ts';
export type { EscalationTrigger } from './concerns/escalate/escalate.schema.ts';
export { type GateSpec, gateSchema } from './concerns/gate/gate.schema.ts';
export * from './concerns/gate/gate-verdict.ts';
export { quotaWindowBounds } from './concerns/quota/quota.decide.ts';
export type { ResilienceSettings } from './concerns/resilience/resilience.schema.ts';
export { type RolloutSpec, rolloutSchema } from './concerns/rollout/rollout.schema.ts';
export * from './concerns/rollout/rollout-analysis.ts';
export * from './concerns/rollout/rollout-machine.ts';
export { addShadowStats, observeShadow, type ShadowUsage } from './concerns/rollout/shadow-observation.ts';
export {
  type DecisionImpact,
  decisionImpact,
  diffPolicies,
  type PolicyChange,
} from './diff/diff-policies.ts';
export * from './errors.ts';
export { canonicalJson } from './hash/canonical-json.ts';
export { sha256Hex } from './hash/sha256.ts';
export { assignVersion, stickyBucket } from './hash/sticky-bucket.ts';
export { supportedOperators } from './logic/compile-json-logic.ts';
export * from './model/compiled-policy.ts';
export * from './model/decision.ts';
export * from './model/env.ts';
export * from './model/facts.ts';
export * from './model/snapshot.ts';
export { type CompileOptions, compilePolicy } from './pipeline/compile.ts';
export { decide, explain } from './pipeline/decide.ts';
export { parseYamlFile } from './pipeline/parse.ts';
export * from './pipeline/policy.schema.ts';
export { policyJsonSchema, policyJsonSchemaId } from './pipeline/policy-json-schema.ts';
export { resolveEnvRefs } from './pipeline/resolve-env-refs.ts';
export { type BadFixtureResult, checkBadFixture, readExpectedErrors } from './testing/check-bad-fixture.ts';
export { defaultFacts, factsWithDefaults } from './testing/facts-with-defaults.ts';
export { testFactsSchema } from './testing/policy-test.schema.ts';
export {
  type PolicyTestReport,
  readTestCaseFacts,
  runPolicyTests,
  type TestCaseResult,
  type TestMismatch,
} from './testing/run-policy-tests.ts';
