import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  OtlpTraceExporter,
  otlpExporterFromEnv,
  otlpTracesUrlFromEnv,
  parseOtelKeyValues,
  unixNanos,
} from './otlp-exporter.ts';
import { type OtlpTestReceiver, startOtlpTestReceiver } from './otlp-test-receiver.ts';
import { RequestTrace } from './request-trace.ts';
import { type FinishedSpan, type SpanExporter, Tracer } from './tracing.ts';

const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';

/** An exporter that keeps what it is given. */
function memoryExporter(): SpanExporter & { spans: FinishedSpan[] } {
  const spans: FinishedSpan[] = [];
  return { spans, export: (span) => spans.push(span), shutdown: async () => {} };
}

/** A clock tests move by hand. */
function manualClock(startMs = 1_700_000_000_000) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('tracer', () => {
  it('continues the client’s trace: same trace id, the client’s span as parent, its sampled flag', () => {
    const exporter = memoryExporter();
    const tracer = new Tracer({ exporter });
    const span = tracer.startSpan('chat', {
      parent: `00-${clientTraceId}-${clientSpanId}-01`,
      kind: 'server',
    });
    expect(span.context.traceId).toBe(clientTraceId);
    expect(span.parentSpanId).toBe(clientSpanId);
    expect(span.context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.traceparent).toBe(`00-${clientTraceId}-${span.context.spanId}-01`);
    span.end();
    expect(exporter.spans).toHaveLength(1);
  });

  it('starts a new sampled trace for a missing or malformed traceparent', () => {
    const tracer = new Tracer();
    const a = tracer.startSpan('chat', { parent: 'garbage' });
    const b = tracer.startSpan('chat');
    expect(a.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.context.traceId).not.toBe(b.context.traceId);
    expect(a.parentSpanId).toBeUndefined();
    expect(a.traceparent).toMatch(/-01$/);
  });

  it('propagates but never exports a trace the client did not sample', () => {
    const exporter = memoryExporter();
    const tracer = new Tracer({ exporter });
    const span = tracer.startSpan('chat', { parent: `00-${clientTraceId}-${clientSpanId}-00` });
    const child = tracer.startSpan('decide', { parent: span });
    child.end();
    span.end();
    expect(child.traceparent).toMatch(/-00$/);
    expect(exporter.spans).toHaveLength(0);
  });

  it('exports a span once, frozen at end, with an error status never downgraded', () => {
    const exporter = memoryExporter();
    const clock = manualClock();
    const tracer = new Tracer({ exporter, now: clock.now, maxAttributeChars: 5 });
    const span = tracer.startSpan('work', { attributes: { long: 'abcdefgh', skipped: undefined } });
    span.setStatus('error', 'upstream_timeout').setStatus('ok');
    clock.advance(250);
    span.end();
    span.setAttribute('late', 1);
    span.end();
    expect(exporter.spans).toHaveLength(1);
    expect(exporter.spans[0]).toMatchObject({
      attributes: { long: 'abcde' },
      status: { code: 'error', message: 'upstream_timeout' },
      endTimeMs: exporter.spans[0]!.startTimeMs + 250,
    });
  });
});

describe('unixNanos', () => {
  it('writes epoch milliseconds as exact nanosecond strings', () => {
    expect(unixNanos(1_700_000_000_123.5)).toBe('1700000000123500000');
    expect(unixNanos(0)).toBe('0');
  });
});

describe('a request trace exported over OTLP/HTTP JSON', () => {
  let receiver: OtlpTestReceiver;
  beforeAll(async () => {
    receiver = await startOtlpTestReceiver();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.status = 200;
  });

  it('sends the request span with children for decide, cache lookup and each attempt', async () => {
    const clock = manualClock();
    const exporter = new OtlpTraceExporter({ url: `${receiver.url}/v1/traces`, serviceName: 'gateway-test' });
    const tracer = new Tracer({ exporter, now: clock.now });
    const trace = RequestTrace.start(tracer, {
      traceparent: `00-${clientTraceId}-${clientSpanId}-01`,
      operation: 'chat',
      httpRoute: '/v1/chat/completions',
      requestId: 'req_1',
    });
    trace.recordCaller('search', 'key_1');
    const decide = trace.startChild('decide');
    trace.recordPlan({ policy: 'default@v3', routeId: 'auto', target: 'fast' });
    decide.end();
    const lookup = trace.startChild('cache.lookup', { 'switchyard.cache.rule': 'faq' });
    trace.recordCache('faq', 'miss');
    lookup.end();
    const deployment = { id: 'fast/openai-mini', model: 'gpt-4o-mini', provider: { type: 'openai' } };
    const first = trace.startAttempt(deployment, 1);
    clock.advance(100);
    trace.endAttempt(first, { outcome: 'failed', status: 503, code: 'upstream_overloaded' });
    const second = trace.startAttempt(
      { ...deployment, id: 'fast/anthropic', provider: { type: 'anthropic' } },
      2,
    );
    const sentUpstream = second.traceparent;
    clock.advance(400);
    trace.endAttempt(second, { outcome: 'ok', status: 200 });
    trace.finish({
      status: 200,
      outcome: 'ok',
      deploymentId: 'fast/anthropic',
      responseModel: 'claude-3-5-haiku',
      finishReasons: ['stop'],
      usage: { inputTokens: 12, outputTokens: 34 },
    });
    await tracer.shutdown();

    expect(receiver.received).toHaveLength(1);
    const { path, headers, body } = receiver.received[0]!;
    expect(path).toBe('/v1/traces');
    expect(headers['content-type']).toBe('application/json');
    const resourceSpans = (body as { resourceSpans: Record<string, unknown>[] }).resourceSpans;
    expect(resourceSpans[0]!.resource).toEqual({
      attributes: [{ key: 'service.name', value: { stringValue: 'gateway-test' } }],
    });
    type OtlpSpan = {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      name: string;
      kind: number;
      startTimeUnixNano: string;
      endTimeUnixNano: string;
      attributes: { key: string; value: Record<string, unknown> }[];
      status: { code: number; message?: string };
    };
    const spans = (resourceSpans[0]!.scopeSpans as { spans: OtlpSpan[] }[])[0]!.spans;
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const attrs = (span: OtlpSpan) => Object.fromEntries(span.attributes.map((a) => [a.key, a.value]));
    expect(spans.map((s) => s.name).sort()).toEqual([
      'cache.lookup',
      'chat fast',
      'chat gpt-4o-mini',
      'chat gpt-4o-mini',
      'decide',
    ]);
    const request = byName('chat fast')[0]!;
    expect(spans.every((s) => s.traceId === clientTraceId)).toBe(true);
    expect(request).toMatchObject({ parentSpanId: clientSpanId, kind: 2, status: { code: 0 } });
    expect(attrs(request)).toMatchObject({
      'gen_ai.operation.name': { stringValue: 'chat' },
      'gen_ai.request.model': { stringValue: 'fast' },
      'gen_ai.response.model': { stringValue: 'claude-3-5-haiku' },
      'gen_ai.usage.input_tokens': { intValue: '12' },
      'gen_ai.usage.output_tokens': { intValue: '34' },
      'gen_ai.response.finish_reasons': { arrayValue: { values: [{ stringValue: 'stop' }] } },
      'switchyard.route': { stringValue: 'auto' },
      'switchyard.policy': { stringValue: 'default@v3' },
      'switchyard.cache.status': { stringValue: 'miss' },
      'http.response.status_code': { intValue: '200' },
    });
    for (const child of ['decide', 'cache.lookup'])
      expect(byName(child)[0]).toMatchObject({ parentSpanId: request.spanId, kind: 1 });
    const attempts = spans.filter((s) => s.kind === 3);
    expect(attempts).toHaveLength(2);
    const failed = attempts.find((s) => attrs(s)['switchyard.attempt']?.intValue === '1')!;
    const served = attempts.find((s) => attrs(s)['switchyard.attempt']?.intValue === '2')!;
    expect(failed).toMatchObject({
      parentSpanId: request.spanId,
      status: { code: 2, message: 'upstream_overloaded' },
    });
    expect(attrs(failed)).toMatchObject({
      'gen_ai.provider.name': { stringValue: 'openai' },
      'gen_ai.request.model': { stringValue: 'gpt-4o-mini' },
      'error.type': { stringValue: 'upstream_overloaded' },
    });
    expect(attrs(served)['gen_ai.provider.name']).toEqual({ stringValue: 'anthropic' });
    expect(sentUpstream).toBe(`00-${clientTraceId}-${served.spanId}-01`);
    expect(BigInt(served.endTimeUnixNano) - BigInt(served.startTimeUnixNano)).toBe(400_000_000n);
  });

  it('marks the request span an error for a 5xx and for a stream that failed after its 200, not for a 4xx', async () => {
    const exporter = memoryExporter();
    const tracer = new Tracer({ exporter });
    const start = () =>
      RequestTrace.start(tracer, {
        traceparent: undefined,
        operation: 'chat',
        httpRoute: '/v1/chat',
        requestId: 'r',
      });
    start().finish({ status: 429, outcome: 'error', errorCode: 'rate_limit_exceeded' });
    start().finish({ status: 502, outcome: 'error', errorCode: 'upstream_server_error' });
    start().finish({ status: 200, outcome: 'error', errorCode: 'upstream_server_error' });
    expect(exporter.spans.map((s) => s.status.code)).toEqual(['unset', 'error', 'error']);
    expect(exporter.spans[0]!.attributes['error.type']).toBe('rate_limit_exceeded');
  });

  it('sends a full batch at once, without waiting for the interval', async () => {
    const exporter = new OtlpTraceExporter({
      url: `${receiver.url}/v1/traces`,
      maxBatchSpans: 2,
      flushIntervalMs: 3_600_000,
    });
    const tracer = new Tracer({ exporter });
    tracer.startSpan('a').end();
    expect(receiver.received).toHaveLength(0);
    tracer.startSpan('b').end();
    await receiver.waitFor(1);
    expect(receiver.received).toHaveLength(1);
    await exporter.flush();
    expect(exporter.exported).toBe(2);
    await exporter.shutdown();
  });

  it('sends a partial batch after the flush interval', async () => {
    const exporter = new OtlpTraceExporter({ url: `${receiver.url}/v1/traces`, flushIntervalMs: 5 });
    new Tracer({ exporter }).startSpan('a').end();
    await receiver.waitFor(1);
    await exporter.shutdown();
    expect(exporter.exported).toBe(1);
  });

  it('drops and counts spans beyond the queue bound, a failed export, and spans after shutdown', async () => {
    const onDrop = vi.fn();
    const exporter = new OtlpTraceExporter({
      url: `${receiver.url}/v1/traces`,
      maxQueueSpans: 2,
      flushIntervalMs: 3_600_000,
      onDrop,
    });
    const tracer = new Tracer({ exporter });
    receiver.status = 503;
    // `b` fills a batch, sent at once with `a`; `c` and `d` fill the queue while it is out; `e` overflows.
    for (const name of ['a', 'b', 'c', 'd', 'e']) tracer.startSpan(name).end();
    expect(onDrop.mock.calls).toEqual([[1, 'queue_full', undefined]]);
    await exporter.flush();
    expect(onDrop.mock.calls.slice(1)).toEqual([
      [2, 'export_failed', expect.any(Error)],
      [2, 'export_failed', expect.any(Error)],
    ]);
    await exporter.shutdown();
    tracer.startSpan('late').end();
    expect(onDrop).toHaveBeenLastCalledWith(1, 'shutdown', undefined);
    expect(exporter.dropped).toBe(6);
    expect(exporter.exported).toBe(0);
  });

  it('never blocks or throws while the collector is unreachable', async () => {
    const onDrop = vi.fn();
    const exporter = new OtlpTraceExporter({ url: 'http://127.0.0.1:9/v1/traces', timeoutMs: 2_000, onDrop });
    const tracer = new Tracer({ exporter });
    expect(() => tracer.startSpan('a').end()).not.toThrow();
    await exporter.shutdown();
    expect(onDrop).toHaveBeenCalledWith(1, 'export_failed', expect.anything());
  });
});

describe('OTLP configuration from the environment', () => {
  it('is off unless an endpoint is set, and off when disabled', () => {
    expect(otlpTracesUrlFromEnv({})).toBeUndefined();
    expect(otlpExporterFromEnv({})).toBeUndefined();
    expect(
      otlpTracesUrlFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
    expect(
      otlpTracesUrlFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
  });

  it('appends /v1/traces to the base endpoint, and takes the traces endpoint as it is', () => {
    expect(otlpTracesUrlFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe(
      'http://c:4318/v1/traces',
    );
    expect(
      otlpTracesUrlFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom',
      }),
    ).toBe('http://t:4318/custom');
  });

  it('parses headers as comma-separated, percent-decoded key=value pairs', () => {
    expect(parseOtelKeyValues('api-key=abc%3D%3D, x-team = core ,broken')).toEqual({
      'api-key': 'abc==',
      'x-team': 'core',
    });
  });

  it('sends the configured headers and service name to the configured endpoint', async () => {
    const receiver = await startOtlpTestReceiver();
    try {
      const exporter = otlpExporterFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=secret%21',
        OTEL_SERVICE_NAME: 'switchyard-eu',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,deployment.environment.name=prod',
      })!;
      new Tracer({ exporter }).startSpan('a').end();
      await exporter.shutdown();
      const { path, headers, body } = receiver.received[0]!;
      expect(path).toBe('/v1/traces');
      expect(headers['x-honeycomb-team']).toBe('secret!');
      expect((body as { resourceSpans: { resource: unknown }[] }).resourceSpans[0]!.resource).toEqual({
        attributes: [
          { key: 'service.name', value: { stringValue: 'switchyard-eu' } },
          { key: 'deployment.environment.name', value: { stringValue: 'prod' } },
        ],
      });
    } finally {
      await receiver.close();
    }
  });
});
