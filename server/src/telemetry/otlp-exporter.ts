import { request } from 'undici';
import type { AttributeValue, FinishedSpan, SpanExporter, SpanKind } from './tracing.ts';

/** Options of `OtlpTraceExporter`. */
export interface OtlpTraceExporterOptions {
  /** The traces URL, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** Extra request headers (an observability vendor's key): never logged. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** `service.name` of the resource (default `switchyard`). */
  serviceName?: string | undefined;
  /** More resource attributes (`service.version`, `deployment.environment.name`…). */
  resourceAttributes?: Readonly<Record<string, AttributeValue>> | undefined;
  /** Most spans held; beyond it new spans are dropped and counted (default 2048). */
  maxQueueSpans?: number | undefined;
  /** Spans per request; a full batch is sent at once (default 512). */
  maxBatchSpans?: number | undefined;
  /** Longest a span waits before its batch is sent, in ms (default 5000). */
  flushIntervalMs?: number | undefined;
  /** Longest an export request may take, in ms (default 10 000). */
  timeoutMs?: number | undefined;
  /** Told about spans that will never be sent: `queue_full`, `export_failed` (with the error), `shutdown`. */
  onDrop?:
    | ((count: number, reason: 'queue_full' | 'export_failed' | 'shutdown', error?: unknown) => void)
    | undefined;
}

/** OTLP `SpanKind` numbers. */
const spanKinds: Readonly<Record<SpanKind, number>> = { internal: 1, server: 2, client: 3 };
/** OTLP `Status.code` numbers. */
const statusCodes = { unset: 0, ok: 1, error: 2 } as const;

/** An OTLP/JSON `AnyValue`. */
type OtlpValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpValue[] } };

function otlpValue(value: AttributeValue): OtlpValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  return { arrayValue: { values: (value as readonly (string | number | boolean)[]).map(otlpValue) } };
}

function otlpAttributes(attributes: Readonly<Record<string, AttributeValue>>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: otlpValue(value) }));
}

/** Epoch milliseconds (fractional) as the decimal string of unix nanoseconds, without float overflow. */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(nanos)).toString();
}

/** Spans as the body of `POST /v1/traces` in OTLP/HTTP JSON: `resourceSpans` → `scopeSpans` → `spans`. */
export function otlpTraceRequest(
  spans: readonly FinishedSpan[],
  resource: Readonly<Record<string, AttributeValue>>,
): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes(resource) },
        scopeSpans: [
          {
            scope: { name: '@switchyard/server', version: '0.1.0' },
            spans: spans.map((span) => ({
              traceId: span.context.traceId,
              spanId: span.context.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              flags: span.context.traceFlags & 0xff,
              name: span.name,
              kind: spanKinds[span.kind],
              startTimeUnixNano: unixNanos(span.startTimeMs),
              endTimeUnixNano: unixNanos(span.endTimeMs),
              attributes: otlpAttributes(span.attributes),
              events: span.events.map((event) => ({
                timeUnixNano: unixNanos(event.timeMs),
                name: event.name,
                attributes: otlpAttributes(event.attributes),
              })),
              status: {
                code: statusCodes[span.status.code],
                ...(span.status.message ? { message: span.status.message } : {}),
              },
            })),
          },
        ],
      },
    ],
  };
}

/**
 * Sends spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies, in batches, off the
 * request path. `export` never blocks, never throws and never waits for the network: spans queue
 * (bounded; beyond it they are dropped and counted) and go within `flushIntervalMs`, or at once when
 * a batch is full; one request at a time. A failed export drops its batch (counted) rather than
 * retrying: traces are worth less than the gateway's memory. `shutdown()` sends what is queued.
 */
export class OtlpTraceExporter implements SpanExporter {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #resource: Record<string, AttributeValue>;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #onDrop: NonNullable<OtlpTraceExporterOptions['onDrop']>;
  #queue: FinishedSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #stopped = false;
  #dropped = 0;
  #exported = 0;

  constructor(options: OtlpTraceExporterOptions) {
    this.#url = options.url;
    this.#headers = { 'content-type': 'application/json', ...options.headers };
    this.#resource = { ...options.resourceAttributes, 'service.name': options.serviceName ?? 'switchyard' };
    this.#maxQueue = options.maxQueueSpans ?? 2048;
    this.#maxBatch = Math.min(options.maxBatchSpans ?? 512, this.#maxQueue);
    this.#intervalMs = options.flushIntervalMs ?? 5_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#onDrop = options.onDrop ?? (() => {});
  }

  /** Spans dropped so far (queue full, failed exports, after shutdown). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Spans the collector accepted so far. */
  get exported(): number {
    return this.#exported;
  }

  /** Spans waiting to be sent. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a span; drops it when the queue is full or the exporter stopped. */
  export(span: FinishedSpan): void {
    if (this.#stopped || this.#queue.length >= this.#maxQueue) {
      this.#drop(1, this.#stopped ? 'shutdown' : 'queue_full');
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#startSending();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#startSending();
      }, this.#intervalMs);
      // Spans must never keep a finished process alive; `shutdown()` is how they are saved.
      this.#timer.unref();
    }
  }

  /** Sends everything queued now; resolves once sent (or dropped). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#sending) {
      this.#startSending();
      await this.#sending;
    }
  }

  /** Stops accepting spans and sends what is queued. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #startSending(): void {
    if (this.#sending) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sending = this.#drain().finally(() => {
      this.#sending = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const res = await request(this.#url, {
          method: 'POST',
          headers: this.#headers,
          body: JSON.stringify(otlpTraceRequest(batch, this.#resource)),
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode >= 300)
          throw new Error(`the collector answered ${res.statusCode}`);
        this.#exported += batch.length;
      } catch (error) {
        this.#drop(batch.length, 'export_failed', error);
      }
    }
  }

  #drop(count: number, reason: 'queue_full' | 'export_failed' | 'shutdown', error?: unknown): void {
    this.#dropped += count;
    this.#onDrop(count, reason, error);
  }
}

/** Parses `key=value,key2=value2` (values percent-decoded), as `OTEL_EXPORTER_OTLP_HEADERS` is written. */
export function parseOtelKeyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    try {
      out[key] = decodeURIComponent(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

/**
 * The traces URL the standard OpenTelemetry variables name: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as
 * is, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; undefined (tracing export off) when
 * neither is set, or `OTEL_TRACES_EXPORTER=none`, or `OTEL_SDK_DISABLED=true`.
 */
export function otlpTracesUrlFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * The exporter the environment configures, or undefined when export is off (see
 * `otlpTracesUrlFromEnv`). Reads `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`, `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES`. Bodies are always JSON (`http/json`), which collectors accept on 4318.
 */
export function otlpExporterFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Omit<OtlpTraceExporterOptions, 'url' | 'headers' | 'serviceName'> = {},
): OtlpTraceExporter | undefined {
  const url = otlpTracesUrlFromEnv(env);
  if (!url) return undefined;
  const resource = parseOtelKeyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  return new OtlpTraceExporter({
    ...options,
    url,
    headers: parseOtelKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || resource['service.name'] || 'switchyard',
    resourceAttributes: { ...resource, ...options.resourceAttributes },
  });
}
