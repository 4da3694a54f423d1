import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { isMainModule } from './is-main-module.ts';
import { type HistogramSnapshot, LatencyHistogram } from './latency-histogram.ts';
import { readCpuTicks } from './process-stats.ts';

/**
 * The bench's load generator. Closed loop: `concurrency` workers each send, wait for the whole
 * response, send again. Open loop: sends are scheduled by the clock at a fixed rate whatever the
 * target does, and latency runs from the *scheduled* send time, so a stalled target is charged for
 * every request it delayed (no coordinated omission). Streams also record time to first content.
 * Run as a process (`node --import tsx bench/src/load-generator.ts`), it takes `LoadJob`s over IPC
 * and answers `LoadJobReply`s (after a first `{ ready: true }`), so it can sit on its own core.
 */

/** Where the loops read the time and how they wait; the real one is `performance.now()` and timers. */
export interface LoadClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves at (or after) `atMs`. */
  sleepUntil(atMs: number): Promise<void>;
}

/** The monotonic wall clock. */
export const performanceClock: LoadClock = {
  now: () => performance.now(),
  sleepUntil: (atMs) =>
    new Promise((resolve) => {
      setTimeout(resolve, Math.max(0, atMs - performance.now()));
    }),
};

/** How one request went; `firstContentAt` is the clock time the first content chunk arrived (streams). */
export interface SendOutcome {
  ok: boolean;
  firstContentAt?: number;
  /** Why it failed, when it did (kept for the report, a few distinct ones). */
  error?: string;
}

/** Sends one request and resolves once its response has been read to the end. */
export type Send = () => Promise<SendOutcome>;

/** What a loop measured. */
export interface LoopStats {
  /** Request latency: from send (closed loop) or scheduled send (open loop) to the last byte. */
  latency: LatencyHistogram;
  /** Time to first content chunk, from the same start as `latency` (streams only). */
  ttft: LatencyHistogram;
  /** Open loop: how late each send left compared to its schedule (the generator's own lag). */
  sendLag: LatencyHistogram;
  /** Requests answered successfully. */
  completed: number;
  errors: number;
  /** Up to five distinct error messages. */
  errorSamples: string[];
  /** Open loop: scheduled requests never sent because `maxOutstanding` stayed full to the end. */
  dropped: number;
  /** From the loop's start to the last response. */
  elapsedMs: number;
}

/** Options of `runClosedLoop`. */
export interface ClosedLoopOptions {
  /** Requests in flight at all times. */
  concurrency: number;
  /** New requests start until this many ms have passed; those in flight then still count. */
  durationMs: number;
  send: Send;
  /** Default: `performanceClock`. */
  clock?: LoadClock;
}

/** Options of `runOpenLoop`. */
export interface OpenLoopOptions {
  /** Requests per second, evenly spaced. */
  rate: number;
  /** Sends are scheduled over this many ms (`floor(durationMs × rate / 1000)` requests). */
  durationMs: number;
  /**
   * Most requests in flight. A due send waits for a slot (its latency still runs from its scheduled
   * time); whatever is still unsent when `durationMs` is over counts as `dropped`.
   */
  maxOutstanding: number;
  send: Send;
  /** Default: `performanceClock`. */
  clock?: LoadClock;
}

/** Clock time at which the `index`-th request (from 0) of an open loop started at `startMs` is due. */
export function scheduledSendTime(startMs: number, ratePerSecond: number, index: number): number {
  return startMs + (index * 1000) / ratePerSecond;
}

/** How many requests an open loop of `durationMs` at `ratePerSecond` schedules. */
export function scheduledCount(durationMs: number, ratePerSecond: number): number {
  return Math.floor((durationMs * ratePerSecond) / 1000);
}

function emptyStats(): LoopStats {
  return {
    latency: new LatencyHistogram(),
    ttft: new LatencyHistogram(),
    sendLag: new LatencyHistogram(),
    completed: 0,
    errors: 0,
    errorSamples: [],
    dropped: 0,
    elapsedMs: 0,
  };
}

function recordOutcome(stats: LoopStats, outcome: SendOutcome, startedAt: number, endedAt: number): void {
  if (!outcome.ok) {
    stats.errors += 1;
    const message = outcome.error ?? 'failed';
    if (stats.errorSamples.length < 5 && !stats.errorSamples.includes(message))
      stats.errorSamples.push(message);
    return;
  }
  stats.completed += 1;
  stats.latency.record(endedAt - startedAt);
  if (outcome.firstContentAt !== undefined) stats.ttft.record(outcome.firstContentAt - startedAt);
}

async function settle(send: Send): Promise<SendOutcome> {
  try {
    return await send();
  } catch (err) {
    return { ok: false, error: (err as Error).message ?? String(err) };
  }
}

/** Runs `concurrency` workers back to back for `durationMs`: the saturation throughput. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<LoopStats> {
  const clock = options.clock ?? performanceClock;
  const stats = emptyStats();
  const start = clock.now();
  const end = start + options.durationMs;
  let last = start;
  const worker = async () => {
    while (clock.now() < end) {
      const sentAt = clock.now();
      const outcome = await settle(options.send);
      last = clock.now();
      recordOutcome(stats, outcome, sentAt, last);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  stats.elapsedMs = last - start;
  return stats;
}

/** Sends at a fixed rate for `durationMs`, measuring from each scheduled send time. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<LoopStats> {
  const clock = options.clock ?? performanceClock;
  const stats = emptyStats();
  const start = clock.now();
  const end = start + options.durationMs;
  const total = scheduledCount(options.durationMs, options.rate);
  let outstanding = 0;
  let last = start;
  let slotFreed: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();

  const fire = (intended: number) => {
    const sentAt = clock.now();
    stats.sendLag.record(sentAt - intended);
    outstanding += 1;
    const done = settle(options.send).then((outcome) => {
      last = clock.now();
      recordOutcome(stats, outcome, intended, last);
      outstanding -= 1;
      inFlight.delete(done);
      slotFreed?.();
    });
    inFlight.add(done);
  };

  let next = 0;
  sending: while (next < total) {
    const due = scheduledSendTime(start, options.rate, next);
    if (clock.now() < due) await clock.sleepUntil(due);
    // Send everything due by now: a late wake-up catches up instead of shifting the schedule.
    while (next < total && scheduledSendTime(start, options.rate, next) <= clock.now()) {
      while (outstanding >= options.maxOutstanding) {
        if (clock.now() >= end) break sending;
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        slotFreed = undefined;
        if (clock.now() >= end) break sending;
      }
      fire(scheduledSendTime(start, options.rate, next));
      next += 1;
    }
  }
  stats.dropped = total - next;
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  stats.elapsedMs = Math.max(last, end) - start;
  return stats;
}

/** One endpoint of a target: a JSON POST (or a GET), possibly answered with a server-sent event stream. */
export interface TargetRequest {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  path: string;
  /** Default `POST`; a `GET` sends no body. */
  method?: 'GET' | 'POST' | undefined;
  headers: Record<string, string>;
  body: string;
  /** Whether the response is an SSE stream whose first content and `[DONE]` are looked for. */
  stream: boolean;
}

// A delta with non-empty content; JSON.stringify writes no spaces, other encoders might.
const contentPattern = /"content"\s*:\s*"[^"]/;

/**
 * A `Send` that POSTs `request` through `pool` and reads the response to the end. Non-200 answers,
 * empty bodies and streams without `data: [DONE]` are failures.
 */
export function httpSend(pool: Pool, request: TargetRequest, clock: LoadClock = performanceClock): Send {
  const get = request.method === 'GET';
  const headers = get ? request.headers : { 'content-type': 'application/json', ...request.headers };
  const options = {
    path: request.path,
    method: get ? ('GET' as const) : ('POST' as const),
    headers,
    body: get ? null : request.body,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  };
  return async () => {
    const res = await pool.request(options);
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      return { ok: false, error: `status ${res.statusCode}: ${text.slice(0, 160).replace(/\s+/g, ' ')}` };
    }
    if (!request.stream) {
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      return bytes > 0 ? { ok: true } : { ok: false, error: 'empty response body' };
    }
    let firstContentAt: number | undefined;
    let tail = '';
    for await (const chunk of res.body) {
      const text = tail + (chunk as Buffer).toString('latin1');
      if (firstContentAt === undefined && contentPattern.test(text)) firstContentAt = clock.now();
      tail = text.slice(-32);
    }
    if (!tail.includes('[DONE]')) return { ok: false, error: 'stream ended without data: [DONE]' };
    if (firstContentAt === undefined) return { ok: false, error: 'stream carried no content' };
    return { ok: true, firstContentAt };
  };
}

/** One measurement, as the orchestrator sends it over IPC. */
export interface LoadJob {
  request: TargetRequest;
  mode: 'closed' | 'open';
  /** Closed loop: workers; open loop: most requests in flight. */
  concurrency: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Run first and thrown away (connections open, JIT warms). */
  warmupMs: number;
  durationMs: number;
  /** Processes whose CPU ticks are read right before and after the measured loop (the gateway). */
  gatewayPids: number[];
  /** Other processes on the generator's core (the upstream), read the same way. */
  clientPids: number[];
}

/** What a job measured; histograms travel as snapshots. */
export interface LoadResult {
  mode: 'closed' | 'open';
  completed: number;
  errors: number;
  errorSamples: string[];
  dropped: number;
  elapsedMs: number;
  latency: HistogramSnapshot;
  ttft: HistogramSnapshot;
  sendLag: HistogramSnapshot;
  /** CPU clock ticks the gateway processes used during the measured loop. */
  gatewayTicks: number;
  /** CPU clock ticks of `clientPids` during the measured loop. */
  clientTicks: number;
  /** CPU ms the generator itself used during the measured loop. */
  generatorCpuMs: number;
}

/** The generator's answer to one job. */
export type LoadJobReply = { ok: true; result: LoadResult } | { ok: false; error: string };

/** Runs one job: warm-up, then the measured loop with CPU read around it. */
export async function runLoadJob(job: LoadJob, pool: Pool): Promise<LoadResult> {
  const send = httpSend(pool, job.request);
  const loop = (durationMs: number) =>
    job.mode === 'closed'
      ? runClosedLoop({ concurrency: job.concurrency, durationMs, send })
      : runOpenLoop({ rate: job.rate ?? 100, durationMs, maxOutstanding: job.concurrency, send });
  if (job.warmupMs > 0) await loop(job.warmupMs);
  const gatewayBefore = readCpuTicks(job.gatewayPids);
  const clientBefore = readCpuTicks(job.clientPids);
  const cpuBefore = process.cpuUsage();
  const stats = await loop(job.durationMs);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    mode: job.mode,
    completed: stats.completed,
    errors: stats.errors,
    errorSamples: stats.errorSamples,
    dropped: stats.dropped,
    elapsedMs: stats.elapsedMs,
    latency: stats.latency.snapshot(),
    ttft: stats.ttft.snapshot(),
    sendLag: stats.sendLag.snapshot(),
    gatewayTicks: readCpuTicks(job.gatewayPids) - gatewayBefore,
    clientTicks: readCpuTicks(job.clientPids) - clientBefore,
    generatorCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** A keep-alive pool with room for every request a job may have in flight. */
export function createLoadPool(origin: string, connections = 512): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
}

if (isMainModule(import.meta.url)) {
  if (!process.send) {
    console.error('load-generator: run me with an IPC channel (the overhead bench does)');
    process.exit(2);
  }
  const pools = new Map<string, Pool>();
  // One job at a time: the orchestrator waits for each reply before sending the next.
  process.on('message', (job: LoadJob) => {
    let pool = pools.get(job.request.origin);
    if (!pool) {
      pool = createLoadPool(job.request.origin);
      pools.set(job.request.origin, pool);
    }
    runLoadJob(job, pool).then(
      (result) => process.send?.({ ok: true, result } satisfies LoadJobReply),
      (err: unknown) =>
        process.send?.({ ok: false, error: (err as Error).stack ?? String(err) } satisfies LoadJobReply),
    );
  });
  // The orchestrator went away (exit, crash, kill): there is nothing left to measure for.
  process.on('disconnect', () => {
    process.exit(0);
  });
  process.send({ ready: true });
}
