/**
 * @switchyard/evals: the eval gate. promptfoo suites (`evals/suites/<name>/promptfooconfig.yaml`)
 * run through gateways serving a baseline and a candidate policy, judged by the engine's `judgeGate`.
 */
export {
  costOfResult,
  defaultSuitesDir,
  type EvalSuite,
  keepPromptfooOffline,
  loadEvalSuite,
  runEvalSuite,
} from './eval-suite.ts';
export { type PolicyGateway, type PolicyGatewayOptions, startPolicyGateway } from './policy-gateway.ts';
export { renderVerdictMarkdown, renderVerdictText } from './render-verdict.ts';
export { type GatePolicy, type GateRun, type RunGateOptions, runGate, writeVerdict } from './run-gate.ts';
