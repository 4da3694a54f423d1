import { LatencyHistogram } from './latency-histogram.ts';
import type { LoadResult } from './load-generator.ts';
import { type Scenario, type TargetName, targetNames } from './overhead-scenarios.ts';

/**
 * Turns the overhead bench's raw rounds into figures: per target and scenario (throughput,
 * latency percentiles, TTFT, CPU per request, peak RSS), the ratios against the baselines measured
 * in the same run, the targets Switchyard is held to, and the printed report.
 */

/** One target in one scenario, all rounds merged. */
export interface CellFigures {
  requests: number;
  errors: number;
  errorSamples: string[];
  /** Open loop: scheduled requests never sent (the target could not keep up). */
  dropped: number;
  reqPerSec: number;
  /** Throughput of each round, to show the noise between rounds. */
  roundReqPerSec: number[];
  /** (max − min) / mean of `roundReqPerSec`. */
  roundSpread: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Streams: time to first content chunk. */
  ttftMs?: { p50: number; p99: number };
  /** Open loop: p99 of how late the generator sent compared to its schedule (its own noise). */
  sendLagP99Ms?: number;
  /** Gateway CPU seconds per 1,000 requests (absent for `direct`). */
  cpuSecondsPer1k?: number;
  /** Share of one core the gateway used while measured. */
  gatewayCoreBusy?: number;
  /** Share of one core the load generator and the upstream used together (near 1: client-bound). */
  clientCoreBusy: number;
  /** VmHWM of the gateway after this scenario, in MB (a running peak: earlier scenarios count). */
  peakRssMb?: number;
}

/** Merges the rounds of one target in one scenario. */
export class CellAccumulator {
  private readonly hasGateway: boolean;
  private readonly ticksPerSecond: number;
  private readonly latency = new LatencyHistogram();
  private readonly ttft = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  private readonly rounds: number[] = [];
  private requests = 0;
  private errors = 0;
  private readonly errorSamples: string[] = [];
  private dropped = 0;
  private elapsedMs = 0;
  private gatewayTicks = 0;
  private clientTicks = 0;
  private generatorCpuMs = 0;
  /** Running VmHWM of the gateway, in MB. */
  peakRssMb: number | undefined;

  constructor(hasGateway: boolean, ticksPerSecond: number) {
    this.hasGateway = hasGateway;
    this.ticksPerSecond = ticksPerSecond;
  }

  /** Adds one round. */
  add(result: LoadResult): void {
    this.latency.add(LatencyHistogram.from(result.latency));
    this.ttft.add(LatencyHistogram.from(result.ttft));
    this.sendLag.add(LatencyHistogram.from(result.sendLag));
    this.requests += result.completed;
    this.errors += result.errors;
    for (const e of result.errorSamples)
      if (this.errorSamples.length < 5 && !this.errorSamples.includes(e)) this.errorSamples.push(e);
    this.dropped += result.dropped;
    this.elapsedMs += result.elapsedMs;
    this.gatewayTicks += result.gatewayTicks;
    this.clientTicks += result.clientTicks;
    this.generatorCpuMs += result.generatorCpuMs;
    this.rounds.push(result.elapsedMs > 0 ? (result.completed * 1000) / result.elapsedMs : 0);
  }

  /** Throughput of the round added last. */
  get lastRoundReqPerSec(): number {
    return this.rounds.at(-1) ?? 0;
  }

  /** The merged figures. */
  figures(): CellFigures {
    const seconds = this.elapsedMs / 1000;
    const mean = this.rounds.reduce((a, b) => a + b, 0) / Math.max(1, this.rounds.length);
    const gatewayCpuSeconds = this.gatewayTicks / this.ticksPerSecond;
    const figures: CellFigures = {
      requests: this.requests,
      errors: this.errors,
      errorSamples: this.errorSamples,
      dropped: this.dropped,
      reqPerSec: seconds > 0 ? this.requests / seconds : 0,
      roundReqPerSec: this.rounds,
      roundSpread: mean > 0 ? (Math.max(...this.rounds) - Math.min(...this.rounds)) / mean : 0,
      latencyMs: {
        p50: this.latency.percentile(50),
        p95: this.latency.percentile(95),
        p99: this.latency.percentile(99),
        max: this.latency.maxMs,
        mean: this.latency.meanMs,
      },
      clientCoreBusy:
        seconds > 0 ? (this.clientTicks / this.ticksPerSecond + this.generatorCpuMs / 1000) / seconds : 0,
    };
    if (this.ttft.count > 0)
      figures.ttftMs = { p50: this.ttft.percentile(50), p99: this.ttft.percentile(99) };
    if (this.sendLag.count > 0) figures.sendLagP99Ms = this.sendLag.percentile(99);
    if (this.hasGateway) {
      figures.cpuSecondsPer1k = this.requests > 0 ? (gatewayCpuSeconds / this.requests) * 1000 : Number.NaN;
      figures.gatewayCoreBusy = seconds > 0 ? gatewayCpuSeconds / seconds : 0;
      if (this.peakRssMb !== undefined) figures.peakRssMb = this.peakRssMb;
    }
    return figures;
  }
}

/** Every target's figures in one scenario. */
export interface ScenarioFigures {
  scenario: Scenario;
  cells: Partial<Record<TargetName, CellFigures>>;
}

/** A gateway's figures in one scenario relative to the baselines measured alongside. */
export interface Comparison {
  /** p50 and p99 minus direct's. */
  addedP50Ms?: number;
  addedP99Ms?: number;
  /** Streams: TTFT p99 minus direct's. */
  addedTtftP99Ms?: number;
  throughputVsDirect?: number;
  throughputVsPassthrough?: number;
  throughputVsPortkey?: number;
  /** CPU per request divided by Portkey's. */
  cpuVsPortkey?: number;
}

/** One target Switchyard is held to. */
export interface TargetCheck {
  description: string;
  /** What was measured, readable. */
  measured: string;
  /** Undefined when a figure it needs was not measured in this run. */
  met: boolean | undefined;
}

/** Everything the bench derives from one run. */
export interface OverheadDerived {
  comparisons: Record<string, Partial<Record<TargetName, Comparison>>>;
  /** Highest closed-loop chat throughput of each target, and where. */
  saturation: Partial<Record<TargetName, { reqPerSec: number; scenario: string }>>;
  checks: TargetCheck[];
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? a / b : undefined;
const minus = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? a - b : undefined;

/** Compares every gateway against direct, the passthrough and Portkey, and checks the targets. */
export function deriveOverhead(results: readonly ScenarioFigures[]): OverheadDerived {
  const comparisons: OverheadDerived['comparisons'] = {};
  for (const { scenario, cells } of results) {
    const direct = cells.direct;
    const row: Partial<Record<TargetName, Comparison>> = {};
    for (const name of targetNames) {
      const cell = cells[name];
      if (!cell || name === 'direct') continue;
      const c: Comparison = {
        addedP50Ms: minus(cell.latencyMs.p50, direct?.latencyMs.p50),
        addedP99Ms: minus(cell.latencyMs.p99, direct?.latencyMs.p99),
        addedTtftP99Ms: minus(cell.ttftMs?.p99, direct?.ttftMs?.p99),
        throughputVsDirect: ratio(cell.reqPerSec, direct?.reqPerSec),
        throughputVsPassthrough:
          name === 'passthrough' ? undefined : ratio(cell.reqPerSec, cells.passthrough?.reqPerSec),
        throughputVsPortkey: name === 'portkey' ? undefined : ratio(cell.reqPerSec, cells.portkey?.reqPerSec),
        cpuVsPortkey:
          name === 'portkey' ? undefined : ratio(cell.cpuSecondsPer1k, cells.portkey?.cpuSecondsPer1k),
      };
      row[name] = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Comparison;
    }
    comparisons[scenario.name] = row;
  }

  const saturation: OverheadDerived['saturation'] = {};
  for (const { scenario, cells } of results) {
    if (scenario.mode !== 'closed' || scenario.endpoint !== 'chat') continue;
    for (const name of targetNames) {
      const cell = cells[name];
      if (cell && cell.reqPerSec > (saturation[name]?.reqPerSec ?? 0))
        saturation[name] = { reqPerSec: cell.reqPerSec, scenario: scenario.name };
    }
  }

  return { comparisons, saturation, checks: checkTargets(results, comparisons, saturation) };
}

const ms = (v: number) => `${v.toFixed(3)} ms`;
const x = (v: number) => `${v.toFixed(2)}×`;

function check(
  description: string,
  value: number | undefined,
  limit: number,
  show: (v: number) => string,
  atMost: boolean,
  where = '',
): TargetCheck {
  if (value === undefined || !Number.isFinite(value))
    return { description, measured: 'not measured in this run', met: undefined };
  return { description, measured: `${show(value)}${where}`, met: atMost ? value <= limit : value >= limit };
}

function checkTargets(
  results: readonly ScenarioFigures[],
  comparisons: OverheadDerived['comparisons'],
  saturation: OverheadDerived['saturation'],
): TargetCheck[] {
  const sy = (scenario: string) => comparisons[scenario]?.switchyard;
  const cell = (scenario: string, target: TargetName) =>
    results.find((r) => r.scenario.name === scenario)?.cells[target];
  const checks: TargetCheck[] = [];
  checks.push(
    check('1,000 req/s open loop: added p50 ≤ 0.3 ms', sy('chat-open-1000')?.addedP50Ms, 0.3, ms, true),
  );
  checks.push(
    check('1,000 req/s open loop: added p99 ≤ 1.5 ms', sy('chat-open-1000')?.addedP99Ms, 1.5, ms, true),
  );
  const sat = saturation.switchyard;
  const satWhere = sat ? ` (${sat.scenario})` : '';
  checks.push(
    check(
      'saturation throughput ≥ 70% of passthrough',
      ratio(sat?.reqPerSec, saturation.passthrough?.reqPerSec),
      0.7,
      x,
      false,
      satWhere,
    ),
  );
  checks.push(
    check(
      'saturation throughput ≥ 8× Portkey’s',
      ratio(sat?.reqPerSec, saturation.portkey?.reqPerSec),
      8,
      x,
      false,
      satWhere,
    ),
  );
  // CPU per request: the worst chat scenario both gateways ran.
  let worstCpu: { value: number; scenario: string } | undefined;
  for (const r of results) {
    if (r.scenario.endpoint !== 'chat') continue;
    const v = comparisons[r.scenario.name]?.switchyard?.cpuVsPortkey;
    if (v !== undefined && v > (worstCpu?.value ?? Number.NEGATIVE_INFINITY))
      worstCpu = { value: v, scenario: r.scenario.name };
  }
  checks.push(
    check(
      'CPU per request ≤ 1/8 of Portkey’s (worst chat scenario)',
      worstCpu?.value,
      1 / 8,
      (v) => `${x(v)} = 1/${(1 / v).toFixed(1)}`,
      true,
      worstCpu ? ` (${worstCpu.scenario})` : '',
    ),
  );
  checks.push(
    check('streaming throughput ≥ 0.98× direct', sy('stream-c64')?.throughputVsDirect, 0.98, x, false),
  );
  checks.push(check('streaming: added TTFT p99 ≤ 2 ms', sy('stream-c64')?.addedTtftP99Ms, 2, ms, true));
  checks.push(
    check(
      'peak RSS ≤ 120 MB at concurrency 128',
      cell('chat-c128', 'switchyard')?.peakRssMb,
      120,
      (v) => `${v.toFixed(1)} MB`,
      true,
    ),
  );
  const measured = results.map((r) => r.cells.switchyard).filter((c): c is CellFigures => c !== undefined);
  const failures = measured.reduce((n, c) => n + c.errors, 0);
  checks.push({
    description: 'no failed requests through Switchyard (sanity)',
    measured: measured.length > 0 ? `${failures} failed` : 'not measured in this run',
    met: measured.length > 0 ? failures === 0 : undefined,
  });
  return checks;
}

function fmt(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Settings of the run, printed above the tables. */
export interface RunDescription {
  pinning: string;
  rounds: number;
  phases: string;
  switchyardLogLevel: string;
  /** RSS of each gateway right after it started, before any load. */
  idleRss: string;
  notes: string[];
}

/** The printed report: per-scenario tables, the ratios, the targets. */
export function formatOverheadReport(
  run: RunDescription,
  results: readonly ScenarioFigures[],
  derived: OverheadDerived,
): string {
  const out: string[] = [];
  out.push('Switchyard overhead bench');
  out.push(`  pinning: ${run.pinning}`);
  out.push(`  ${run.rounds} round(s), targets alternating within each round; ${run.phases}`);
  out.push(`  Switchyard log level: ${run.switchyardLogLevel}`);
  if (run.idleRss) out.push(`  RSS after start, before load: ${run.idleRss}`);
  for (const note of run.notes) out.push(`  note: ${note}`);

  for (const { scenario, cells } of results) {
    const open = scenario.mode === 'open';
    const stream = scenario.endpoint === 'stream';
    const head = ['target', 'req/s', '±rounds', 'p50 ms', 'p95 ms', 'p99 ms'];
    if (stream) head.push('TTFT p50', 'TTFT p99');
    head.push('CPU s/1k req', 'gw core', 'client core', 'peak RSS MB', 'errors');
    if (open) head.push('dropped', 'send lag p99');
    const rows: string[][] = [];
    for (const name of targetNames) {
      const c = cells[name];
      if (!c) continue;
      const row = [
        name,
        c.reqPerSec.toFixed(0),
        `${(c.roundSpread * 100).toFixed(0)}%`,
        fmt(c.latencyMs.p50, 3),
        fmt(c.latencyMs.p95, 3),
        fmt(c.latencyMs.p99, 3),
      ];
      if (stream) row.push(fmt(c.ttftMs?.p50, 3), fmt(c.ttftMs?.p99, 3));
      row.push(
        fmt(c.cpuSecondsPer1k, 3),
        c.gatewayCoreBusy === undefined ? '—' : `${(c.gatewayCoreBusy * 100).toFixed(0)}%`,
        `${(c.clientCoreBusy * 100).toFixed(0)}%`,
        fmt(c.peakRssMb, 1),
        String(c.errors),
      );
      if (open) row.push(String(c.dropped), fmt(c.sendLagP99Ms, 3));
      rows.push(row);
    }
    out.push('', `${scenario.name}: ${scenario.title}`, table(head, rows));
    for (const name of targetNames) {
      const c = cells[name];
      if (c && c.errorSamples.length > 0) out.push(`  ${name} errors: ${c.errorSamples.join(' | ')}`);
      if (c && open && scenario.rate !== undefined && c.reqPerSec < scenario.rate * 0.95)
        out.push(
          `  ${name} could not keep up with ${scenario.rate} req/s (saturated): its latencies include queueing`,
        );
    }
  }

  out.push('', 'Compared in the same run (gateway vs baseline)');
  const head = [
    'scenario',
    'target',
    '+p50 ms',
    '+p99 ms',
    '+TTFT p99',
    'vs direct',
    'vs passthrough',
    'vs Portkey',
    'CPU vs Portkey',
  ];
  const rows: string[][] = [];
  for (const { scenario } of results) {
    for (const name of targetNames) {
      const c = derived.comparisons[scenario.name]?.[name];
      if (!c) continue;
      rows.push([
        scenario.name,
        name,
        fmt(c.addedP50Ms, 3),
        fmt(c.addedP99Ms, 3),
        fmt(c.addedTtftP99Ms, 3),
        c.throughputVsDirect === undefined ? '—' : x(c.throughputVsDirect),
        c.throughputVsPassthrough === undefined ? '—' : x(c.throughputVsPassthrough),
        c.throughputVsPortkey === undefined ? '—' : x(c.throughputVsPortkey),
        c.cpuVsPortkey === undefined ? '—' : x(c.cpuVsPortkey),
      ]);
    }
  }
  out.push(table(head, rows));
  const sat = Object.entries(derived.saturation).map(
    ([name, s]) => `${name} ${s.reqPerSec.toFixed(0)} req/s (${s.scenario})`,
  );
  if (sat.length > 0) out.push(`saturation throughput (best closed-loop chat): ${sat.join(', ')}`);

  out.push('', 'Targets (Switchyard)');
  for (const c of derived.checks) {
    const mark = c.met === undefined ? 'not measured' : c.met ? 'met' : 'NOT MET';
    out.push(`  [${mark}] ${c.description}: ${c.measured}`);
  }
  return out.join('\n');
}
