import type { CacheStatus } from '../cache/cacheability.ts';
import type { Span, Tracer } from './tracing.ts';

/** `gen_ai.provider.name` values of the GenAI conventions, by provider type; others pass as they are. */
const providerNames: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  simulator: 'switchyard.simulator',
};

/** `gen_ai.provider.name` for a provider type. */
export function genAiProviderName(providerType: string): string {
  return providerNames[providerType] ?? providerType;
}

/** The deployment an attempt calls (a `Deployment` satisfies it). */
export interface AttemptTarget {
  id: string;
  /** Upstream model name. */
  model: string;
  provider: { type: string };
}

/** How an attempt ended (an `AttemptRecord` satisfies it). */
export interface AttemptEnd {
  outcome: 'ok' | 'escalated' | 'failed' | 'cancelled';
  status?: number | undefined;
  code?: string | undefined;
  trigger?: string | undefined;
}

/** How the request ended. */
export interface RequestEnd {
  /** HTTP status sent. */
  status: number;
  outcome: 'ok' | 'error' | 'cancelled';
  /** `Deployment.id` that answered (cached or fresh). */
  deploymentId?: string | undefined;
  /** The upstream's `model` in its answer. */
  responseModel?: string | undefined;
  /** The upstream's response id. */
  responseId?: string | undefined;
  finishReasons?: readonly string[] | undefined;
  usage?: { inputTokens: number; outputTokens: number } | undefined;
  /** The gateway's error code, for `error.type`. */
  errorCode?: string | undefined;
}

/**
 * The spans of one request: a server span for the whole request (parent: the client's
 * `traceparent`), with children for `decide`, the cache lookup and each upstream attempt (a client
 * span whose context is the `traceparent` sent upstream). Attributes follow the OpenTelemetry GenAI
 * semantic conventions, plus `switchyard.*`. Never records message content or keys.
 */
export class RequestTrace {
  /** The request's span. */
  readonly span: Span;
  readonly #tracer: Tracer;
  readonly #operation: string;

  private constructor(tracer: Tracer, span: Span, operation: string) {
    this.#tracer = tracer;
    this.span = span;
    this.#operation = operation;
  }

  /**
   * Starts the request span when the request arrives. `traceparent` is the client's header (a
   * malformed or missing one starts a new trace).
   */
  static start(
    tracer: Tracer,
    input: {
      traceparent: string | readonly string[] | undefined;
      /** `gen_ai.operation.name`: `chat` or `embeddings`. */
      operation: 'chat' | 'embeddings';
      /** The HTTP route, e.g. `/v1/chat/completions`. */
      httpRoute: string;
      requestId: string;
      startTimeMs?: number | undefined;
    },
  ): RequestTrace {
    const span = tracer.startSpan(input.operation, {
      parent: input.traceparent,
      kind: 'server',
      startTimeMs: input.startTimeMs,
      attributes: {
        'gen_ai.operation.name': input.operation,
        'http.route': input.httpRoute,
        'switchyard.request_id': input.requestId,
      },
    });
    return new RequestTrace(tracer, span, input.operation);
  }

  /** The trace id, for logs and the decision ring. */
  get traceId(): string {
    return this.span.context.traceId;
  }

  /** A child span of the request (`decide`, `cache.lookup`…); end it when the step is done. */
  startChild(
    name: string,
    attributes: Readonly<Record<string, string | number | boolean | undefined>> = {},
  ): Span {
    return this.#tracer.startSpan(name, { parent: this.span, attributes });
  }

  /** Records who the request is for, once authenticated. */
  recordCaller(tenant: string, keyId: string): void {
    this.span.setAttributes({ 'switchyard.tenant': tenant, 'switchyard.key_id': keyId });
  }

  /** Records what `decide` chose; names the span `<operation> <logical model>` as the conventions do. */
  recordPlan(plan: { policy: string; routeId: string; target: string }): void {
    this.span.updateName(`${this.#operation} ${plan.target}`);
    this.span.setAttributes({
      'gen_ai.request.model': plan.target,
      'switchyard.policy': plan.policy,
      'switchyard.route': plan.routeId,
    });
  }

  /** Records how the cache answered (`hit`, `miss`, `bypass`) under which rule. */
  recordCache(ruleId: string, status: CacheStatus): void {
    this.span.setAttributes({ 'switchyard.cache.rule': ruleId, 'switchyard.cache.status': status });
  }

  /**
   * Starts the client span of one upstream attempt. Send its `traceparent` upstream
   * (`ProviderCall.traceparent`), and end it with `endAttempt`.
   */
  startAttempt(target: AttemptTarget, attempt: number): Span {
    return this.#tracer.startSpan(`${this.#operation} ${target.model}`, {
      parent: this.span,
      kind: 'client',
      attributes: {
        'gen_ai.operation.name': this.#operation,
        'gen_ai.request.model': target.model,
        'gen_ai.provider.name': genAiProviderName(target.provider.type),
        'switchyard.deployment': target.id,
        'switchyard.attempt': attempt,
      },
    });
  }

  /** Ends an attempt span with how it went (an `AttemptRecord`). */
  endAttempt(span: Span, end: AttemptEnd): void {
    span.setAttributes({
      'switchyard.attempt.outcome': end.outcome,
      'http.response.status_code': end.status,
      'error.type': end.outcome === 'failed' ? (end.code ?? 'error') : undefined,
      'switchyard.escalation.trigger': end.trigger,
    });
    if (end.outcome === 'failed') span.setStatus('error', end.code);
    span.end();
  }

  /** Ends the request span with how the request ended. */
  finish(end: RequestEnd, endTimeMs?: number): void {
    const span = this.span;
    span.setAttributes({
      'http.response.status_code': end.status,
      'gen_ai.response.model': end.responseModel,
      'gen_ai.response.id': end.responseId,
      'gen_ai.response.finish_reasons': end.finishReasons,
      'gen_ai.usage.input_tokens': end.usage?.inputTokens,
      'gen_ai.usage.output_tokens': end.usage?.outputTokens,
      'switchyard.deployment': end.deploymentId,
      'switchyard.outcome': end.outcome,
    });
    if (end.outcome === 'error') span.setAttribute('error.type', end.errorCode ?? String(end.status));
    // As the HTTP conventions say for server spans: a 4xx is the client's error, not the span's; a
    // stream that failed after its 200 is.
    if (end.status >= 500 || (end.outcome === 'error' && end.status < 400))
      span.setStatus('error', end.errorCode);
    span.end(endTimeMs);
  }
}
