import { describe, expect, it } from 'vitest';
import { type Gauge, MetricsRegistry } from './metrics-registry.ts';

describe('metrics registry exposition (text format 0.0.4)', () => {
  it('writes HELP and TYPE lines, then one sample per series with its labels', async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter({
      name: 'http_requests_total',
      help: 'Requests.',
      labelNames: ['route', 'status'],
    });
    requests.inc({ route: '/v1/chat', status: 200 });
    requests.inc({ route: '/v1/chat', status: 200 }, 2);
    requests.inc({ route: '/v1/embeddings', status: 500 });
    expect(await registry.expose()).toBe(
      [
        '# HELP http_requests_total Requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{route="/v1/chat",status="200"} 3',
        'http_requests_total{route="/v1/embeddings",status="500"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and help text, and leaves out metrics without series', async () => {
    const registry = new MetricsRegistry();
    registry.gauge({ name: 'unused', help: 'never set' });
    const info = registry.gauge({ name: 'info', help: 'a \\ backslash\nand a newline', labelNames: ['v'] });
    info.set({ v: 'quote " back \\ line\n' }, 1);
    expect(await registry.expose()).toBe(
      [
        '# HELP info a \\\\ backslash\\nand a newline',
        '# TYPE info gauge',
        'info{v="quote \\" back \\\\ line\\n"} 1',
        '',
      ].join('\n'),
    );
  });

  it('writes a histogram as cumulative buckets up to +Inf, then sum and count', async () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram({
      name: 'latency_seconds',
      help: 'Latency.',
      labelNames: ['route'],
      buckets: [1, 0.1, 0.5],
    });
    for (const v of [0.05, 0.1, 0.3, 2]) latency.observe({ route: 'a' }, v);
    expect(await registry.expose()).toBe(
      [
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="a",le="0.1"} 2',
        'latency_seconds_bucket{route="a",le="0.5"} 3',
        'latency_seconds_bucket{route="a",le="1"} 3',
        'latency_seconds_bucket{route="a",le="+Inf"} 4',
        'latency_seconds_sum{route="a"} 2.45',
        'latency_seconds_count{route="a"} 4',
        '',
      ].join('\n'),
    );
  });

  it('writes special values as Prometheus spells them, and an unlabelled metric without braces', async () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge({ name: 'g', help: 'g' });
    g.set(undefined, Number.POSITIVE_INFINITY);
    expect(await registry.expose()).toContain('\ng +Inf\n');
    g.set(undefined, Number.NaN);
    expect(await registry.expose()).toContain('\ng NaN\n');
  });

  it('runs collect callbacks (async too) before exposing, and survives one that fails', async () => {
    const registry = new MetricsRegistry();
    let depth = 3;
    const queue: Gauge<'deployment'> = registry.gauge({
      name: 'queue_depth',
      help: 'Queued.',
      labelNames: ['deployment'],
      collect: async () => queue.set({ deployment: 'fast/a' }, depth),
    });
    registry.gauge({
      name: 'broken',
      help: 'fails',
      collect: () => {
        throw new Error('store down');
      },
    });
    expect(await registry.expose()).toContain('queue_depth{deployment="fast/a"} 3');
    depth = 5;
    expect(await registry.expose()).toContain('queue_depth{deployment="fast/a"} 5');
  });

  it('refuses invalid names, reserved labels, duplicates and counters going down', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter({ name: 'bad-name', help: '' })).toThrow(/metric name/);
    expect(() => registry.histogram({ name: 'h', help: '', labelNames: ['le'], buckets: [1] })).toThrow(
      /label/,
    );
    expect(() => registry.counter({ name: 'c', help: '', labelNames: ['__x'] })).toThrow(/label/);
    registry.counter({ name: 'c', help: '' });
    expect(() => registry.gauge({ name: 'c', help: '' })).toThrow(/already registered/);
    expect(() => registry.counter({ name: 'd', help: '' }).inc(undefined, -1)).toThrow(/only go up/);
  });
});

describe('metrics registry cardinality guard', () => {
  it('folds series beyond the bound into one overflow series, and counts the overflow', async () => {
    const registry = new MetricsRegistry({ maxSeriesPerMetric: 2 });
    const byUser = registry.counter({ name: 'by_user_total', help: 'x', labelNames: ['user', 'route'] });
    for (const user of ['a', 'b', 'c', 'd', 'a']) byUser.inc({ user, route: 'r' });
    const text = await registry.expose();
    expect(text).toContain('by_user_total{user="a",route="r"} 2');
    expect(text).toContain('by_user_total{user="b",route="r"} 1');
    expect(text).toContain('by_user_total{user="_other",route="_other"} 2');
    expect(text).not.toContain('user="c"');
    expect(text).toContain('switchyard_metric_series_overflow_total{metric="by_user_total"} 2');
    expect(byUser.seriesCount).toBe(3);
  });

  it('reading a value never creates a series', async () => {
    const registry = new MetricsRegistry();
    const c = registry.counter({ name: 'c_total', help: 'x', labelNames: ['a'] });
    expect(c.get({ a: 'x' })).toBe(0);
    expect(c.seriesCount).toBe(0);
  });
});
