/**
 * The catalog of every policy diagnostic code. `docs/errors.md` is kept in sync with it by a test:
 * add a code here, document it there.
 */
export const policyErrorCatalog = {
  SY_POLICY_NO_FILES: 'the policy folder holds no `*.yaml` policy file',
  SY_POLICY_YAML_SYNTAX: 'the file is not valid YAML',
  SY_POLICY_DUPLICATE_KEY:
    'a top-level section or entry is defined twice (in one file or across the files of a folder)',
  SY_POLICY_MISSING_FIELD: 'a required field is missing',
  SY_POLICY_UNKNOWN_FIELD: 'a field the schema does not define (often a typo)',
  SY_POLICY_INVALID_VALUE: 'a value has the wrong type, is out of range, or is not one of the allowed values',
  SY_POLICY_INLINE_SECRET: 'a secret is written inline; reference it as `${env:NAME}` instead',
  SY_POLICY_BAD_REFERENCE: 'an `${env:…}` reference is malformed',
  SY_POLICY_UNKNOWN_PROVIDER: 'a deployment names a provider the policy does not declare',
  SY_POLICY_UNKNOWN_MODEL:
    'a route, escalation, experiment, cache rule or tenant names a model the policy does not declare',
  SY_POLICY_UNKNOWN_EXPERIMENT: 'a route names an experiment the policy does not declare',
  SY_POLICY_DUPLICATE_ID: 'two routes, cache rules, experiments, arms, quotas or rate limits share an id',
  SY_POLICY_ZERO_WEIGHTS: 'the weights of a model’s deployments (or an experiment’s arms) sum to zero',
  SY_POLICY_ESCALATION_CYCLE: 'escalation chains loop back to a model already in the chain',
  SY_POLICY_UNREACHABLE_ROUTE: 'a route can never match because an earlier route matches everything it would',
  SY_POLICY_CACHE_SCOPE_REQUIRED:
    'a cache rule has no `scope`; every cached answer must be scoped to a tenant or a key',
  SY_POLICY_UNKNOWN_FACT: 'JSON Logic names a variable that is not a request fact',
  SY_POLICY_UNKNOWN_OPERATOR: 'JSON Logic uses an operator that is not supported',
  SY_POLICY_CAPABILITY_MISMATCH:
    'a model is used for something its deployments cannot do (e.g. a semantic cache embedding model without `embedding`)',
  SY_POLICY_BAD_ROLLOUT: 'rollout steps are not increasing percentages ending at 100',
  SY_POLICY_TOO_MANY_ERRORS: 'reporting stopped after the error limit; fix these and run again',
  SY_POLICY_ENV_UNSET: 'warning: an `${env:NAME}` reference names a variable that is not set here',
  SY_POLICY_NO_DEFAULT_TENANT:
    'warning: no `default` tenant, so requests from tenants the policy does not name are refused',
  SY_POLICY_TEST_FAILED: 'a policy test case did not produce the expected decision',
  SY_POLICY_BAD_FIXTURE_PASSED: 'a `bad/*.yaml` fixture compiled without the error it declares',
} as const;

/** A stable policy diagnostic code such as `SY_POLICY_UNKNOWN_MODEL`. */
export type PolicyErrorCode = keyof typeof policyErrorCatalog;

/** Where in which file a diagnostic points (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One compile error or warning: a code, a one-line message and where it points. */
export interface Diagnostic extends SourceLocation {
  code: PolicyErrorCode;
  severity: 'error' | 'warning';
  message: string;
}

/** Formats a diagnostic as `file:line:col severity CODE message`, the form editors and CI understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col} ${d.severity} ${d.code} ${d.message}`;
}
