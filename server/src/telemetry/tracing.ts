import { randomHex } from '../random-hex.ts';
import { formatTraceparent, isSampled, parseTraceparent, type SpanContext } from './trace-context.ts';

/** An attribute value, as OpenTelemetry allows it. */
export type AttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/** Attributes by key; undefined values are left out. */
export type Attributes = Readonly<Record<string, AttributeValue | undefined>>;

/** What a span is to its trace: the gateway serving a request, calling an upstream, or working inside. */
export type SpanKind = 'internal' | 'server' | 'client';

/** How a span ended: `unset` unless something decided (`ok`, or `error` with a message). */
export interface SpanStatus {
  code: 'unset' | 'ok' | 'error';
  message?: string | undefined;
}

/** Something that happened at a point in a span. */
export interface SpanEvent {
  name: string;
  timeMs: number;
  attributes: Readonly<Record<string, AttributeValue>>;
}

/** A span as exporters receive it, once ended. Times are epoch milliseconds (fractional). */
export interface FinishedSpan {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parentSpanId?: string | undefined;
  startTimeMs: number;
  endTimeMs: number;
  attributes: Readonly<Record<string, AttributeValue>>;
  events: readonly SpanEvent[];
  status: SpanStatus;
}

/** Where ended, sampled spans go. `export` must never block nor throw. */
export interface SpanExporter {
  export(span: FinishedSpan): void;
  /** Sends what is queued and stops. */
  shutdown(): Promise<void>;
}

/** Options of `Tracer`. */
export interface TracerOptions {
  /** Where sampled spans go; none: spans still carry ids (for `traceparent`) but go nowhere. */
  exporter?: SpanExporter | undefined;
  /** Epoch milliseconds, fractional (default: `performance.timeOrigin + performance.now()`). */
  now?: (() => number) | undefined;
  /** Longest string attribute kept, in characters; longer ones are cut (default 4096). */
  maxAttributeChars?: number | undefined;
  /** Most events per span; later ones are dropped (default 128). */
  maxEvents?: number | undefined;
}

/** What a new span starts from. */
export interface StartSpanOptions {
  /** The parent: a span, a context, or an incoming `traceparent` header; none (or malformed): a new trace. */
  parent?: Span | SpanContext | string | readonly string[] | undefined;
  kind?: SpanKind | undefined;
  attributes?: Attributes | undefined;
  /** Default: now. */
  startTimeMs?: number | undefined;
}

function randomHexId(bytes: number): string {
  for (;;) {
    const id = randomHex(bytes);
    if (!/^0+$/.test(id)) return id;
  }
}

/**
 * One operation of a trace. Attributes, events and status may be set until `end()`; after it the
 * span is handed to the exporter (when sampled) and further changes are ignored.
 */
export class Span {
  private readonly tracer: Tracer;
  readonly context: SpanContext;
  readonly parentSpanId: string | undefined;
  readonly kind: SpanKind;
  readonly startTimeMs: number;
  #name: string;
  #ended = false;
  readonly #attributes: Record<string, AttributeValue> = {};
  readonly #events: SpanEvent[] = [];
  #status: SpanStatus = { code: 'unset' };

  constructor(
    tracer: Tracer,
    name: string,
    context: SpanContext,
    parentSpanId: string | undefined,
    kind: SpanKind,
    startTimeMs: number,
  ) {
    this.tracer = tracer;
    this.#name = name;
    this.context = context;
    this.parentSpanId = parentSpanId;
    this.kind = kind;
    this.startTimeMs = startTimeMs;
  }

  /** The span's name (e.g. `chat fast`, named once the model is known). */
  get name(): string {
    return this.#name;
  }

  /** Whether `end()` was called. */
  get isEnded(): boolean {
    return this.#ended;
  }

  /** The `traceparent` header that makes the receiver's spans children of this one. */
  get traceparent(): string {
    return formatTraceparent(this.context);
  }

  /** Renames the span. */
  updateName(name: string): this {
    if (!this.#ended) this.#name = name;
    return this;
  }

  /** Sets one attribute; undefined is ignored. */
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (!this.#ended && value !== undefined) this.#attributes[key] = this.tracer.limitValue(value);
    return this;
  }

  /** Sets several attributes; undefined values are ignored. */
  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) this.setAttribute(key, value);
    return this;
  }

  /** Adds an event at `timeMs` (default now). */
  addEvent(name: string, attributes: Attributes = {}, timeMs?: number): this {
    if (this.#ended || this.#events.length >= this.tracer.maxEvents) return this;
    const kept: Record<string, AttributeValue> = {};
    for (const [key, value] of Object.entries(attributes))
      if (value !== undefined) kept[key] = this.tracer.limitValue(value);
    this.#events.push({ name, timeMs: timeMs ?? this.tracer.now(), attributes: kept });
    return this;
  }

  /** Sets the status; an `error` is never downgraded to `ok`. */
  setStatus(code: SpanStatus['code'], message?: string): this {
    if (this.#ended || (this.#status.code === 'error' && code !== 'error')) return this;
    this.#status = code === 'error' && message !== undefined ? { code, message } : { code };
    return this;
  }

  /** Ends the span at `endTimeMs` (default now) and exports it; later calls do nothing. */
  end(endTimeMs?: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.tracer.finish({
      name: this.#name,
      kind: this.kind,
      context: this.context,
      parentSpanId: this.parentSpanId,
      startTimeMs: this.startTimeMs,
      endTimeMs: Math.max(this.startTimeMs, endTimeMs ?? this.tracer.now()),
      attributes: { ...this.#attributes },
      events: [...this.#events],
      status: this.#status,
    });
  }
}

/**
 * A minimal OpenTelemetry-shaped tracer: W3C ids from `crypto`, parents from spans or incoming
 * `traceparent` headers, sampling that follows the parent's flag (new traces are sampled), and
 * ended spans handed to an exporter. Cheap enough to run on every request even with no exporter,
 * so the `traceparent` sent upstream always names a real span.
 */
export class Tracer {
  readonly now: () => number;
  readonly maxEvents: number;
  readonly #exporter: SpanExporter | undefined;
  readonly #maxChars: number;

  constructor(options: TracerOptions = {}) {
    this.#exporter = options.exporter;
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.#maxChars = options.maxAttributeChars ?? 4096;
    this.maxEvents = options.maxEvents ?? 128;
  }

  /**
   * Whether ended spans go anywhere (an exporter is configured). When not, callers may skip building
   * spans altogether and propagate a plain `traceparent`.
   */
  get isRecording(): boolean {
    return this.#exporter !== undefined;
  }

  /** Starts a span: a child of `parent`, or the root of a new trace. */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    const parent = contextOf(options.parent);
    const context: SpanContext = {
      traceId: parent?.traceId ?? randomHexId(16),
      spanId: randomHexId(8),
      traceFlags: parent ? parent.traceFlags : 1,
    };
    const span = new Span(
      this,
      name,
      context,
      parent?.spanId,
      options.kind ?? 'internal',
      options.startTimeMs ?? this.now(),
    );
    if (options.attributes) span.setAttributes(options.attributes);
    return span;
  }

  /** Sends what the exporter queued and stops it. */
  async shutdown(): Promise<void> {
    await this.#exporter?.shutdown();
  }

  /** Hands an ended span to the exporter when sampled (called by `Span.end`). */
  finish(span: FinishedSpan): void {
    if (this.#exporter && isSampled(span.context)) this.#exporter.export(span);
  }

  /** Cuts long strings, so one huge attribute never bloats an export. */
  limitValue(value: AttributeValue): AttributeValue {
    return typeof value === 'string' && value.length > this.#maxChars
      ? value.slice(0, this.#maxChars)
      : value;
  }
}

function contextOf(parent: StartSpanOptions['parent']): SpanContext | undefined {
  if (parent === undefined) return undefined;
  if (parent instanceof Span) return parent.context;
  if (typeof parent === 'string' || Array.isArray(parent))
    return parseTraceparent(typeof parent === 'string' ? parent : undefined);
  return parent as SpanContext;
}
