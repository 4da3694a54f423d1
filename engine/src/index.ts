/**
 * @switchyard/engine: the pure policy engine. Parse → validate → compile a policy, then `decide()`
 * what to do with a request. No I/O, no clock, no randomness: time and randomness come in `Env`.
 */
export * from './errors.ts';
export * from './model/facts.ts';
export * from './model/env.ts';
export * from './model/snapshot.ts';
export * from './model/decision.ts';
export * from './model/compiled-policy.ts';
export * from './pipeline/policy.schema.ts';
export type { Capability, ModelSpec, DeploymentSpec } from './catalog/models.schema.ts';
export type { ProviderSpec } from './catalog/providers.schema.ts';
export { providerTypes } from './catalog/providers.schema.ts';
export type { TenantSpec } from './catalog/tenants.schema.ts';
export type { ResilienceSettings } from './concerns/resilience/resilience.schema.ts';
export type { EscalationTrigger } from './concerns/escalate/escalate.schema.ts';
export type { RolloutSpec } from './concerns/rollout/rollout.schema.ts';
export type { GateSpec } from './concerns/gate/gate.schema.ts';
export { parseDuration } from './catalog/duration.schema.ts';
export { compilePolicy, type CompileOptions } from './pipeline/compile.ts';
export { decide, explain } from './pipeline/decide.ts';
export { resolveEnvRefs } from './pipeline/resolve-env-refs.ts';
export { stickyBucket, assignVersion } from './hash/sticky-bucket.ts';
export { sha256Hex } from './hash/sha256.ts';
export { canonicalJson } from './hash/canonical-json.ts';
export { supportedOperators } from './logic/compile-json-logic.ts';
export { quotaWindowBounds } from './concerns/quota/quota.decide.ts';
export { policyJsonSchema, policyJsonSchemaId } from './pipeline/policy-json-schema.ts';
export { runPolicyTests, readTestCaseFacts, type PolicyTestReport, type TestCaseResult, type TestMismatch } from './testing/run-policy-tests.ts';
export { checkBadFixture, readExpectedErrors, type BadFixtureResult } from './testing/check-bad-fixture.ts';
export { factsWithDefaults, defaultFacts } from './testing/facts-with-defaults.ts';
export { testFactsSchema } from './testing/policy-test.schema.ts';
export { parseYamlFile } from './pipeline/parse.ts';
export { diffPolicies, decisionImpact, type PolicyChange, type DecisionImpact } from './diff/diff-policies.ts';
