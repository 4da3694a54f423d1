import type { Deployment, EscalationHop, EscalationTrigger, Plan } from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import type { ChatCompletion, ChatRequest } from '../providers/chat-types.ts';
import { type ProviderAdapter, type ProviderCall, UpstreamError } from '../providers/provider.ts';
import { isRetryableUpstreamError } from '../providers/upstream-error-map.ts';

/** How the gateway reaches one policy provider: its adapter and the provider's resolved settings. */
export interface ProviderBinding {
  adapter: ProviderAdapter;
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
}

/** One upstream attempt's target: the deployment, its adapter and the call settings (signal included). */
export interface UpstreamTarget {
  deployment: Deployment;
  adapter: ProviderAdapter;
  call: ProviderCall;
}

/**
 * The single-attempt signature: one call to one deployment. Resilience (timeout, retry, breaker,
 * queue) is added by wrapping it; fallback and escalation are `executePlan`'s job.
 */
export type UpstreamAttempt<T> = (target: UpstreamTarget) => Promise<T>;

/** Wraps an attempt with one concern (a timeout, a retry loop, a breaker, a queue). */
export type AttemptWrapper = <T>(next: UpstreamAttempt<T>) => UpstreamAttempt<T>;

/** Composes wrappers; the first is outermost: `composeAttempt([queue, breaker, retry, timeout])`. */
export function composeWrappers(wrappers: readonly AttemptWrapper[]): AttemptWrapper {
  return <T>(attempt: UpstreamAttempt<T>) =>
    wrappers.reduceRight<UpstreamAttempt<T>>((next, wrap) => wrap(next), attempt);
}

/** What happened to one attempt, for `x-switchyard-attempts` and the request log. */
export interface AttemptRecord {
  deploymentId: string;
  /** `ok` served the answer; `escalated` answered but a trigger moved on; `failed`; `cancelled` by the client. */
  outcome: 'ok' | 'escalated' | 'failed' | 'cancelled';
  ms: number;
  /** Status the client would have seen for a failure. */
  status?: number | undefined;
  code?: string | undefined;
  /** The escalation trigger an `escalated` answer showed. */
  trigger?: EscalationTrigger | undefined;
}

/** What `executePlan` needs besides the plan. */
export interface ExecutePlanOptions<T> {
  plan: Plan;
  /** The binding of a policy provider by name (from the policy the request captured). */
  providers: (providerName: string) => ProviderBinding | undefined;
  /** One upstream attempt (e.g. `adapter.chat`). */
  attempt: UpstreamAttempt<T>;
  /** Wrappers around every attempt (timeouts now; retry, breaker, queue later). */
  wrap?: AttemptWrapper | undefined;
  /** The trigger of `hop` a successful answer shows, if any (length, refusal…). */
  judge?: ((result: T, hop: EscalationHop) => EscalationTrigger | undefined) | undefined;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  requestId: string;
  traceparent: string;
  clock: Clock;
  /** Called after every attempt, so the trail is complete even if the request is cut short. */
  onAttempt?: ((record: AttemptRecord) => void) | undefined;
  /**
   * Called before escalation hop `level` (1 for the first hop) is tried, e.g. to reserve the hop's
   * quota charges; false stops escalating: the last answer escalated away from is kept, or the
   * failure is reported.
   */
  beforeHop?: ((hop: EscalationHop, level: number) => Promise<boolean>) | undefined;
  /**
   * Called when a level (0: the plan's candidates, i: hop i) is done, with what it produced: the
   * answer and its deployment, or the failure and the deployment tried last (undefined when none
   * was tried). Lets the caller account each level, including answers escalated away from.
   */
  onLevel?: ((level: number, outcome: LevelOutcome<T>) => void) | undefined;
}

/** How one level of the plan ended (see `ExecutePlanOptions.onLevel`). */
export type LevelOutcome<T> =
  | { ok: true; result: T; deployment: Deployment }
  | { ok: false; error: UpstreamError; deployment: Deployment | undefined };

/** How the plan's execution ended: the answer and who served it, or the failure to report. */
export type Execution<T> =
  | { ok: true; result: T; deployment: Deployment; attempts: AttemptRecord[]; escalations: number }
  | { ok: false; error: UpstreamError; attempts: AttemptRecord[]; escalations: number };

/** Turns anything an attempt threw into an `UpstreamError` (client aborts included). */
export function asUpstreamError(err: unknown, clientGone: boolean, source = 'the upstream'): UpstreamError {
  if (clientGone)
    return new UpstreamError(
      'the client closed the request',
      'aborted',
      499,
      'request_cancelled',
      'request_cancelled',
    );
  if (err instanceof UpstreamError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new UpstreamError(
    `${source} failed: ${detail}`,
    'protocol',
    502,
    'upstream_error',
    'upstream_protocol_error',
  );
}

function matchesFailure(hop: EscalationHop, err: UpstreamError): boolean {
  return hop.on.includes('error') || (err.kind === 'timeout' && hop.on.includes('timeout'));
}

/**
 * Step 4 of the request path: runs the plan. Tries `plan.candidates` in order, falling back to the
 * next on a retryable failure (only connect failures when the route is not idempotent); then walks
 * `plan.escalation` hop by hop while the outcome shows a trigger the next hop declares (`error`,
 * `timeout`, or what `judge` reports), at most `plan.maxEscalations` hops. When an escalation fails,
 * the last answer that was escalated away from is returned rather than the failure. The caller
 * guarantees nothing reached the client yet: everything here happens before the first byte.
 */
export async function executePlan<T>(options: ExecutePlanOptions<T>): Promise<Execution<T>> {
  const { plan, signal } = options;
  const attempt = options.wrap ? options.wrap(options.attempt) : options.attempt;
  const attempts: AttemptRecord[] = [];
  const record = (r: AttemptRecord) => {
    attempts.push(r);
    options.onAttempt?.(r);
  };
  let escalations = 0;
  let candidates = plan.candidates;
  let kept: { result: T; deployment: Deployment } | undefined;
  let failure: UpstreamError | undefined;

  for (;;) {
    const tried = attempts.length;
    const level = await tryCandidates(candidates, attempt, options, record);
    if (options.onLevel) {
      if (level.ok) options.onLevel(escalations, level);
      else {
        const lastId = attempts.length > tried ? attempts[attempts.length - 1]!.deploymentId : undefined;
        options.onLevel(escalations, {
          ok: false,
          error: level.error,
          deployment: candidates.find((d) => d.id === lastId),
        });
      }
    }
    const hop = escalations < plan.maxEscalations ? plan.escalation[escalations] : undefined;
    if (level.ok) {
      const trigger = hop && options.judge ? options.judge(level.result, hop) : undefined;
      if (!hop || !trigger || signal.aborted) return { ...level, attempts, escalations };
      const last = attempts[attempts.length - 1];
      if (last) Object.assign(last, { outcome: 'escalated', trigger });
      kept = level;
    } else {
      failure = level.error;
      if (
        !hop ||
        signal.aborted ||
        !isRetryableUpstreamError(level.error) ||
        !matchesFailure(hop, level.error)
      )
        break;
    }
    // A refused hop does not run: the answer kept so far (if any) is served, as when a hop fails.
    if (options.beforeHop && !(await options.beforeHop(hop, escalations + 1))) break;
    escalations++;
    candidates = hop.candidates;
  }
  if (kept && !signal.aborted) {
    const served = [...attempts].reverse().find((a) => a.outcome === 'escalated');
    if (served) served.outcome = 'ok';
    return { ok: true, ...kept, attempts, escalations };
  }
  return { ok: false, error: failure!, attempts, escalations };
}

async function tryCandidates<T>(
  candidates: readonly Deployment[],
  attempt: UpstreamAttempt<T>,
  options: ExecutePlanOptions<T>,
  record: (r: AttemptRecord) => void,
): Promise<{ ok: true; result: T; deployment: Deployment } | { ok: false; error: UpstreamError }> {
  const { signal, clock } = options;
  // Built only on the failure path: an error captures a stack, which the happy path never needs.
  let error: UpstreamError | undefined;
  for (const deployment of candidates) {
    if (signal.aborted) break;
    const binding = options.providers(deployment.providerName);
    const started = clock.now();
    if (!binding) {
      error = new UpstreamError(
        `provider \`${deployment.providerName}\` is not running`,
        'connect',
        502,
        'upstream_error',
        'upstream_unreachable',
      );
      record({
        deploymentId: deployment.id,
        outcome: 'failed',
        ms: 0,
        status: error.status,
        code: error.code,
      });
      continue;
    }
    const call: ProviderCall = {
      deployment,
      apiKey: binding.apiKey,
      baseUrl: binding.baseUrl,
      headers: binding.headers,
      signal,
      requestId: options.requestId,
      traceparent: options.traceparent,
    };
    try {
      const result = await attempt({ deployment, adapter: binding.adapter, call });
      record({ deploymentId: deployment.id, outcome: 'ok', ms: clock.now() - started });
      return { ok: true, result, deployment };
    } catch (err) {
      error = asUpstreamError(err, signal.aborted, deployment.id);
      const cancelled = error.kind === 'aborted';
      record({
        deploymentId: deployment.id,
        outcome: cancelled ? 'cancelled' : 'failed',
        ms: clock.now() - started,
        status: error.status,
        code: error.code,
      });
      if (cancelled || !isRetryableUpstreamError(error)) break;
      if (!options.plan.idempotent && error.kind !== 'connect') break;
    }
  }
  if (signal.aborted) error = asUpstreamError(undefined, true);
  error ??= new UpstreamError(
    'no deployment is available for this model',
    'connect',
    503,
    'service_unavailable_error',
    'no_healthy_deployment',
  );
  return { ok: false, error };
}

/** The upstream request for a deployment: the client's body with the upstream model name. */
export function forDeployment<R extends { model: string }>(request: R, deployment: Deployment): R {
  return { ...request, model: deployment.model };
}

/**
 * The escalation trigger of `hop` a finished completion shows: `length` (cut off), `refusal`
 * (a refusal or a content filter stop), `invalidJson` (JSON was asked for, the answer is not JSON),
 * `lowConfidence` (mean token logprob below the hop's threshold, when logprobs came back).
 */
export function judgeCompletion(
  completion: ChatCompletion,
  hop: EscalationHop,
  request: ChatRequest,
): EscalationTrigger | undefined {
  const choice = completion.choices[0];
  if (!choice) return hop.on.includes('error') ? 'error' : undefined;
  if (hop.on.includes('length') && choice.finish_reason === 'length') return 'length';
  if (hop.on.includes('refusal') && (choice.message.refusal || choice.finish_reason === 'content_filter'))
    return 'refusal';
  const wantsJson =
    request.response_format?.type === 'json_object' || request.response_format?.type === 'json_schema';
  if (hop.on.includes('invalidJson') && wantsJson && !isJson(choice.message.content)) return 'invalidJson';
  const logprobs = choice.logprobs?.content;
  if (hop.on.includes('lowConfidence') && logprobs && logprobs.length > 0) {
    const mean = logprobs.reduce((sum, t) => sum + t.logprob, 0) / logprobs.length;
    if (mean < hop.minLogprob) return 'lowConfidence';
  }
  return undefined;
}

function isJson(text: string | null): boolean {
  if (text === null) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
