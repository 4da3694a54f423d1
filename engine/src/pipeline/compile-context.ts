import type { Diagnostic, PolicyErrorCode } from '../errors.ts';
import type { LogicProblem } from '../logic/compile-json-logic.ts';
import type { PolicySpec } from './policy.schema.ts';
import { locate, type SourceNode } from './source-map.ts';
import type { ValidatedPolicy } from './validate.ts';

/** What every compile stage reads and reports into. */
export interface CompileContext {
  spec: PolicySpec;
  declared: ValidatedPolicy['declared'];
  source: SourceNode;
  /** Environment variable names that are set where the policy is checked (for warnings). */
  definedEnv?: ReadonlySet<string> | undefined;
  diagnostics: Diagnostic[];
  /** Reports an error at a path of the policy (`['routes', 2, 'target']`). */
  error(code: PolicyErrorCode, path: readonly PropertyKey[], message: string): void;
  /** Reports a warning at a path of the policy. */
  warn(code: PolicyErrorCode, path: readonly PropertyKey[], message: string): void;
  /** Reports JSON Logic problems found under `path`. */
  logic(problems: LogicProblem[], path: readonly PropertyKey[]): void;
}

/** Creates the context the stages share. */
export function createCompileContext(
  validated: ValidatedPolicy,
  source: SourceNode,
  definedEnv?: ReadonlySet<string>,
): CompileContext {
  const diagnostics: Diagnostic[] = [];
  const add = (
    severity: Diagnostic['severity'],
    code: PolicyErrorCode,
    path: readonly PropertyKey[],
    message: string,
  ) => diagnostics.push({ code, severity, message, ...locate(source, path, true) });
  return {
    spec: validated.spec,
    declared: validated.declared,
    source,
    definedEnv,
    diagnostics,
    error: (code, path, message) => add('error', code, path, message),
    warn: (code, path, message) => add('warning', code, path, message),
    logic(problems, path) {
      for (const p of problems)
        add(
          'error',
          p.kind === 'fact'
            ? 'SY_POLICY_UNKNOWN_FACT'
            : p.kind === 'operator'
              ? 'SY_POLICY_UNKNOWN_OPERATOR'
              : 'SY_POLICY_INVALID_VALUE',
          [...path, ...p.path],
          p.message,
        );
    },
  };
}

/** Whether a model name is declared (valid or not: invalid ones were already reported). */
export function isDeclaredModel(ctx: CompileContext, name: string): boolean {
  return ctx.declared.models.has(name);
}
