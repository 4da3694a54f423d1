/** Label values of one series, by label name; a missing label is exposed as the empty string. */
export type LabelValues<L extends string> = { readonly [K in L]?: string | number | undefined };

/** What every metric declares. */
export interface MetricOptions<L extends string> {
  /** Prometheus name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, unique in the registry. */
  name: string;
  /** One line saying what it measures (the `# HELP` line). */
  help: string;
  /** Label names, in exposition order (default none). */
  labelNames?: readonly L[] | undefined;
  /**
   * Most series (label value combinations) kept; beyond it new combinations are counted in one
   * overflow series whose every label is `_other` (default: the registry's `maxSeriesPerMetric`).
   */
  maxSeries?: number | undefined;
  /**
   * Called before each exposition, to set values from a source kept elsewhere (a queue's depth, a
   * writer's drop count). May be async (a breaker store read).
   */
  collect?: (() => void | Promise<void>) | undefined;
}

/** Options of a histogram. */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds of the buckets, ascending (`+Inf` is added). */
  buckets: readonly number[];
}

const metricNameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The value of the overflow series' labels. */
export const overflowLabelValue = '_other';

/** `+Inf`, `-Inf`, `NaN` or the number as Prometheus parses it. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`);
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

interface Series<V> {
  values: string[];
  data: V;
}

/**
 * What the three metric kinds share: series by label values, the cardinality guard, exposition.
 * Series are kept until `reset()`, as Prometheus clients do.
 */
abstract class Metric<L extends string, V> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly collect: (() => void | Promise<void>) | undefined;
  protected readonly series = new Map<string, Series<V>>();
  readonly #maxSeries: number;
  readonly #onOverflow: (metric: string) => void;

  constructor(options: MetricOptions<L>, maxSeries: number, onOverflow: (metric: string) => void) {
    if (!metricNameRe.test(options.name))
      throw new Error(`expected a metric name like \`http_requests_total\`, got \`${options.name}\``);
    for (const label of options.labelNames ?? [])
      if (!labelNameRe.test(label) || label.startsWith('__') || label === 'le')
        throw new Error(`invalid label name \`${label}\` on metric \`${options.name}\``);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    this.collect = options.collect;
    this.#maxSeries = options.maxSeries ?? maxSeries;
    this.#onOverflow = onOverflow;
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract initial(): V;
  protected abstract sampleLines(name: string, values: readonly string[], data: V): string[];

  /** Forgets every series (e.g. breaker states of deployments gone from the policy). */
  reset(): void {
    this.series.clear();
  }

  /** Number of series held. */
  get seriesCount(): number {
    return this.series.size;
  }

  /** The series of these label values if it exists (reading never creates one). */
  protected find(labels: LabelValues<L> | undefined): V | undefined {
    return this.series.get(this.#idOf(this.#valuesOf(labels)))?.data;
  }

  #valuesOf(labels: LabelValues<L> | undefined): string[] {
    return this.labelNames.map((name) => {
      const value = labels?.[name];
      return value === undefined ? '' : String(value);
    });
  }

  #idOf(values: readonly string[]): string {
    return values.join('\u0001');
  }

  /** The series of these label values, created on first use (or the overflow series when full). */
  protected seriesOf(labels: LabelValues<L> | undefined): V {
    const values = this.#valuesOf(labels);
    const id = this.#idOf(values);
    let series = this.series.get(id);
    if (series) return series.data;
    if (this.series.size >= this.#maxSeries) {
      this.#onOverflow(this.name);
      const overflow = this.labelNames.map(() => overflowLabelValue);
      const overflowId = this.#idOf(overflow);
      series = this.series.get(overflowId);
      if (series) return series.data;
      series = { values: overflow, data: this.initial() };
      this.series.set(overflowId, series);
      return series.data;
    }
    series = { values, data: this.initial() };
    this.series.set(id, series);
    return series.data;
  }

  /** The metric in text exposition format 0.0.4 (nothing when it has no series). */
  expose(): string {
    if (this.series.size === 0) return '';
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { values, data } of this.series.values())
      lines.push(...this.sampleLines(this.name, values, data));
    return `${lines.join('\n')}\n`;
  }

  protected labels(values: readonly string[], extra?: string): string {
    return labelText(this.labelNames, values, extra);
  }
}

/** A value that only goes up (resets only with the process). */
export class Counter<L extends string = never> extends Metric<L, { value: number }> {
  readonly type = 'counter';

  /** Adds `value` (default 1; must not be negative). */
  inc(labels?: LabelValues<L>, value = 1): void {
    if (!(value >= 0)) throw new Error(`counter \`${this.name}\` can only go up, got \`${value}\``);
    this.seriesOf(labels).value += value;
  }

  /** Sets the total, for `collect` callbacks mirroring a cumulative count kept elsewhere. */
  setTotal(labels: LabelValues<L> | undefined, total: number): void {
    this.seriesOf(labels).value = total;
  }

  /** The current value of a series (0 when absent), for tests and health views. */
  get(labels?: LabelValues<L>): number {
    return this.find(labels)?.value ?? 0;
  }

  protected initial() {
    return { value: 0 };
  }

  protected sampleLines(name: string, values: readonly string[], data: { value: number }): string[] {
    return [`${name}${this.labels(values)} ${formatSampleValue(data.value)}`];
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends Metric<L, { value: number }> {
  readonly type = 'gauge';

  /** Sets the value. */
  set(labels: LabelValues<L> | undefined, value: number): void {
    this.seriesOf(labels).value = value;
  }

  /** Adds `value` (default 1). */
  inc(labels?: LabelValues<L>, value = 1): void {
    this.seriesOf(labels).value += value;
  }

  /** Subtracts `value` (default 1). */
  dec(labels?: LabelValues<L>, value = 1): void {
    this.seriesOf(labels).value -= value;
  }

  /** The current value of a series (0 when absent). */
  get(labels?: LabelValues<L>): number {
    return this.find(labels)?.value ?? 0;
  }

  protected initial() {
    return { value: 0 };
  }

  protected sampleLines(name: string, values: readonly string[], data: { value: number }): string[] {
    return [`${name}${this.labels(values)} ${formatSampleValue(data.value)}`];
  }
}

interface HistogramData {
  /** Observations per bucket (not cumulative), the last one being `+Inf`. */
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted in cumulative buckets, with their sum and count. */
export class Histogram<L extends string = never> extends Metric<L, HistogramData> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions<L>, maxSeries: number, onOverflow: (metric: string) => void) {
    super(options, maxSeries, onOverflow);
    const buckets = [...new Set(options.buckets)].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
    if (buckets.length === 0)
      throw new Error(`histogram \`${options.name}\` needs at least one finite bucket`);
    this.buckets = buckets;
  }

  /** Counts one observation. NaN is ignored (it would poison the sum). */
  observe(labels: LabelValues<L> | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const data = this.seriesOf(labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    data.counts[i]!++;
    data.sum += value;
    data.count++;
  }

  /** The count and sum of a series, for tests. */
  get(labels?: LabelValues<L>): { count: number; sum: number } {
    const data = this.find(labels);
    return { count: data?.count ?? 0, sum: data?.sum ?? 0 };
  }

  protected initial(): HistogramData {
    return { counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  protected sampleLines(name: string, values: readonly string[], data: HistogramData): string[] {
    const lines: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += data.counts[i]!;
      lines.push(`${name}_bucket${this.labels(values, `le="${formatSampleValue(bound)}"`)} ${cumulative}`);
    });
    lines.push(`${name}_bucket${this.labels(values, 'le="+Inf"')} ${data.count}`);
    lines.push(`${name}_sum${this.labels(values)} ${formatSampleValue(data.sum)}`);
    lines.push(`${name}_count${this.labels(values)} ${data.count}`);
    return lines;
  }
}

/** Options of `MetricsRegistry`. */
export interface MetricsRegistryOptions {
  /** Default bound of series per metric (default 2000). */
  maxSeriesPerMetric?: number | undefined;
}

/**
 * A small Prometheus client: counters, gauges and histograms with labels, exposed in the text
 * format 0.0.4. A cardinality guard bounds every metric's series; what overflows is counted in the
 * overflow series and in `switchyard_metric_series_overflow_total{metric}`, so a label fed
 * unbounded values (user ids, raw paths) degrades a dashboard instead of the process's memory.
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<string, unknown>>();
  readonly #maxSeries: number;
  readonly #overflow: Counter<'metric'>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.#maxSeries = options.maxSeriesPerMetric ?? 2_000;
    this.#overflow = this.counter({
      name: 'switchyard_metric_series_overflow_total',
      help: 'Observations counted in a metric’s overflow series because it reached its series bound.',
      labelNames: ['metric'],
    });
  }

  /** Registers a counter. */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#register(new Counter<L>(options, this.#maxSeries, this.#onOverflow));
  }

  /** Registers a gauge. */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#register(new Gauge<L>(options, this.#maxSeries, this.#onOverflow));
  }

  /** Registers a histogram. */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#register(new Histogram<L>(options, this.#maxSeries, this.#onOverflow));
  }

  /**
   * Every metric in the text exposition format, after running the `collect` callbacks. A callback
   * that fails leaves its metric as it was (and the failure out of the scrape).
   */
  async expose(): Promise<string> {
    const metrics = [...this.#metrics.values()];
    await Promise.all(
      metrics.map(async (metric) => {
        try {
          await metric.collect?.();
        } catch {
          // A scrape must not fail for one source: the metric keeps its last values.
        }
      }),
    );
    return metrics.map((metric) => metric.expose()).join('');
  }

  readonly #onOverflow = (metric: string) => {
    if (metric !== this.#overflow.name) this.#overflow.inc({ metric });
  };

  #register<M extends { readonly name: string }>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric \`${metric.name}\` is already registered`);
    this.#metrics.set(metric.name, metric as unknown as Metric<string, unknown>);
    return metric;
  }
}
