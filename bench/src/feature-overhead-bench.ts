import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { startBenchUpstream } from './fake-upstream.ts';
import { isMainModule } from './is-main-module.ts';
import { createLoadPool, httpSend, runClosedLoop, type Send } from './load-generator.ts';
import { buildOverheadPolicy } from './overhead-bench-policy.ts';
import { clockTicksPerSecond, findProcessTree, readCpuTicks, readPeakRssMb } from './process-stats.ts';
import { detectPinning, ProcessSupervisor, pinSelf } from './process-supervisor.ts';

/**
 * What each of Switchyard's features costs on the request path, measured against the plain gateway
 * in the same run (issue figures: protections with memory and Redis stores; exact-cache hit vs
 * miss; metrics + tracing + decision logging on vs off). Each configuration is its own gateway
 * process pinned to one core; the fake upstream and the load (closed loop, concurrency 32) share
 * the other; configurations alternate round by round so machine noise hits them alike.
 */

const repoRoot = join(import.meta.dirname, '../..');
const concurrency = 32;

const protections = `    quotas:
      - { per: tenant, window: day, usd: 1000000 }
      - { per: key, window: minute, tokens: 1000000000 }
    rateLimits:
      - { per: key, rps: 1000000, burst: 1000000 }
      - { per: tenant, tpm: 10000000000 }
`;

const cacheRule = `cache:
  - { id: deterministic, match: { endpoint: chat }, when: { "==": [{ var: temperature }, 0] }, mode: exact, ttl: 1h, scope: key }
`;

interface Config {
  name: string;
  what: string;
  policy: (upstream: string) => string;
  env: Record<string, string>;
  /**
   * What is sent: chat requests whose body is the same one always or a new one each time (a cache
   * miss), streamed or not; or `models`, an authenticated `GET /v1/models`.
   */
  load: { body: 'same' | 'temperature0' | 'unique'; stream: boolean } | 'models';
}

function configs(redisPrefix: string, otlp: string): Config[] {
  const plain = (u: string) => buildOverheadPolicy(u);
  const protectedPolicy = (u: string) =>
    buildOverheadPolicy(u).replace(
      '    allowModels: [fast, embed]\n',
      `    allowModels: [fast, embed]\n${protections}`,
    );
  return [
    {
      name: 'plain',
      what: 'no quotas, limits or cache; info logging (one decision line per request), no tracing',
      policy: plain,
      env: {},
      load: { body: 'same', stream: false },
    },
    {
      name: 'protected-memory',
      what: 'plain + rate limits (rps, tpm) and quotas (usd, tokens): take, reserve, settle in memory',
      policy: protectedPolicy,
      env: {},
      load: { body: 'same', stream: false },
    },
    {
      name: 'protected-redis',
      what: 'the same protections with Redis stores (Lua take/reserve/settle)',
      policy: protectedPolicy,
      env: { SWITCHYARD_REDIS_URL: 'redis://127.0.0.1:6379', SWITCHYARD_REDIS_PREFIX: redisPrefix },
      load: { body: 'same', stream: false },
    },
    {
      name: 'telemetry-off',
      what: 'plain with logging off and no tracing (metrics are always kept)',
      policy: plain,
      env: { SWITCHYARD_LOG_LEVEL: 'silent' },
      load: { body: 'same', stream: false },
    },
    {
      name: 'telemetry-on',
      what: 'plain + OTLP trace export (request, decide and attempt spans) to a local sink',
      policy: plain,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp },
      load: { body: 'same', stream: false },
    },
    {
      name: 'cache-miss',
      what: 'exact cache rule; every request new (lookup, upstream, store)',
      policy: (u) => `${plain(u)}${cacheRule}`,
      env: {},
      load: { body: 'unique', stream: false },
    },
    {
      name: 'cache-hit',
      what: 'exact cache rule; the same temperature-0 request (answered from cache)',
      policy: (u) => `${plain(u)}${cacheRule}`,
      env: {},
      load: { body: 'temperature0', stream: false },
    },
    {
      name: 'cache-miss-stream',
      what: 'exact cache rule, streamed; every request new (the upstream streams 20 chunks 5 ms apart)',
      policy: (u) => `${plain(u)}${cacheRule}`,
      env: {},
      load: { body: 'unique', stream: true },
    },
    {
      name: 'cache-hit-stream',
      what: 'exact cache rule, streamed; the same request (replayed from cache as an event stream)',
      policy: (u) => `${plain(u)}${cacheRule}`,
      env: {},
      load: { body: 'temperature0', stream: true },
    },
    {
      name: 'floor',
      what: 'plain; an authenticated GET /v1/models: HTTP, auth and a small JSON answer, no body, decision or ledger row',
      policy: plain,
      env: {},
      load: 'models',
    },
  ];
}

function chatBody(kind: 'same' | 'temperature0' | 'unique', stream: boolean, i: number): string {
  const content = kind === 'unique' ? `Say hello, request ${i}` : 'Say hello';
  return JSON.stringify({
    model: 'fast',
    temperature: kind === 'same' ? 0.7 : 0,
    ...(stream ? { stream: true } : {}),
    messages: [{ role: 'user', content }],
  });
}

/** How a configuration's requests are sent through `pool`. */
function sendFor(config: Config, pool: Pool, origin: string, key: string, next: () => number): Send {
  const headers = { authorization: `Bearer ${key}` };
  const load = config.load;
  if (load === 'models')
    return httpSend(pool, { origin, path: '/v1/models', method: 'GET', headers, body: '', stream: false });
  const request = { origin, path: '/v1/chat/completions', headers, stream: load.stream };
  if (load.body !== 'unique')
    return httpSend(pool, { ...request, body: chatBody(load.body, load.stream, 0) });
  return () => httpSend(pool, { ...request, body: chatBody('unique', load.stream, next()) })();
}

/** One configuration measured in one round. */
interface Round {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  errors: number;
}

/** A configuration's medians over the rounds. */
interface Cell extends Round {
  /** Largest minus smallest CPU per request over the rounds, as a share of the median. */
  cpuSpread: number;
}

/** Runs the bench and prints a table; returns the per-configuration medians. */
export async function runFeatureOverheadBench(options: {
  rounds: number;
  measureMs: number;
  warmMs: number;
  /** Configuration names to run (default: all). */
  only?: readonly string[] | undefined;
}): Promise<Record<string, Cell>> {
  const pinning = detectPinning();
  if (pinning.pinned) pinSelf(pinning.clientCore);
  const work = mkdtempSync(join(tmpdir(), 'sy-feature-bench-'));
  const supervisor = new ProcessSupervisor(work, repoRoot, pinning.pinned);
  const upstream = await startBenchUpstream(0);
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const otlp = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  const redisPrefix = `sybench:${process.pid}:`;
  const every = configs(redisPrefix, otlp);
  const unknown = (options.only ?? []).filter((name) => !every.some((c) => c.name === name));
  if (unknown.length > 0)
    throw new Error(
      `unknown configuration(s) ${unknown.join(', ')}; known: ${every.map((c) => c.name).join(', ')}`,
    );
  const all = options.only ? every.filter((c) => options.only!.includes(c.name)) : every;
  const running: { config: Config; origin: string; key: string; tree: number[] }[] = [];
  try {
    let port = 19100 + (process.pid % 500);
    for (const config of all) {
      const dir = join(work, config.name);
      mkdirSync(join(dir, 'policy'), { recursive: true });
      writeFileSync(join(dir, 'policy', 'policy.yaml'), config.policy(`${upstream.origin}/v1`));
      const env: NodeJS.ProcessEnv = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHYARD_') && !k.startsWith('OTEL_')),
      );
      Object.assign(env, config.env);
      port++;
      const proc = supervisor.start(
        config.name,
        process.execPath,
        [
          join(repoRoot, 'node_modules/.bin/switchyard'),
          'serve',
          '--policy',
          join(dir, 'policy'),
          '--port',
          String(port),
          '--state-dir',
          join(dir, 'state'),
        ],
        {
          core: pinning.pinned ? pinning.gatewayCore : undefined,
          env,
        },
      );
      const origin = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        try {
          const res = await fetch(`${origin}/readyz`);
          if (res.ok) break;
        } catch {
          if (i > 300) throw new Error(`${config.name} did not start:\n${supervisor.logTail(proc)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const key = readFileSync(join(dir, 'state', 'dev-key'), 'utf8').trim();
      running.push({ config, origin, key, tree: findProcessTree(proc.pid) });
    }
    const ticks = clockTicksPerSecond();
    const samples = new Map<string, Round[]>();
    let unique = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const r of round % 2 === 0 ? running : [...running].reverse()) {
        const pool = createLoadPool(r.origin, concurrency * 2);
        const send = sendFor(r.config, pool, r.origin, r.key, () => unique++);
        await runClosedLoop({ concurrency, durationMs: options.warmMs, send });
        const before = readCpuTicks(r.tree);
        const stats = await runClosedLoop({ concurrency, durationMs: options.measureMs, send });
        const cpuMs = ((readCpuTicks(r.tree) - before) / ticks) * 1000;
        await pool.close();
        const cell: Round = {
          rps: stats.completed / (stats.elapsedMs / 1000),
          p50: stats.latency.percentile(50),
          p99: stats.latency.percentile(99),
          cpuMsPerRequest: cpuMs / Math.max(1, stats.completed),
          errors: stats.errors,
        };
        samples.set(r.config.name, [...(samples.get(r.config.name) ?? []), cell]);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const result: Record<string, Cell> = {};
    for (const [name, cells] of samples) {
      result[name] = {
        rps: median(cells.map((c) => c.rps)),
        p50: median(cells.map((c) => c.p50)),
        p99: median(cells.map((c) => c.p99)),
        cpuMsPerRequest: median(cells.map((c) => c.cpuMsPerRequest)),
        cpuSpread:
          (Math.max(...cells.map((c) => c.cpuMsPerRequest)) -
            Math.min(...cells.map((c) => c.cpuMsPerRequest))) /
          median(cells.map((c) => c.cpuMsPerRequest)),
        errors: cells.reduce((s, c) => s + c.errors, 0),
      };
    }
    const rss = Object.fromEntries(running.map((r) => [r.config.name, readPeakRssMb(r.tree)]));
    const lines = [
      `Switchyard feature overhead · closed loop, concurrency ${concurrency}, ${options.rounds} rounds × ${options.measureMs} ms · ${pinning.pinned ? 'gateways on one core, load on the other' : `not pinned (${pinning.reason})`}`,
      '',
      `${'config'.padEnd(18)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'CPU ms/req'.padStart(12)}${'spread'.padStart(8)}${'vs plain'.padStart(10)}${'peak RSS'.padStart(10)}  errors`,
    ];
    const base = result.plain;
    for (const c of all) {
      const r = result[c.name]!;
      const vsPlain = base ? `${(r.cpuMsPerRequest / base.cpuMsPerRequest).toFixed(2)}×` : '—';
      lines.push(
        `${c.name.padEnd(18)}${r.rps.toFixed(0).padStart(8)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${r.cpuMsPerRequest.toFixed(3).padStart(12)}${`±${((r.cpuSpread * 100) / 2).toFixed(0)}%`.padStart(8)}${vsPlain.padStart(10)}${`${rss[c.name]!.toFixed(0)} MB`.padStart(10)}  ${r.errors}`,
      );
    }
    const cpu = (name: string) => result[name]!.cpuMsPerRequest;
    const ratio = (a: string, b: string) => (cpu(a) / cpu(b)).toFixed(3);
    const timeRatio = (a: string, b: string) => (result[a]!.p50 / result[b]!.p50).toFixed(3);
    const d = (a: string, b: string) =>
      `${((result[a]!.cpuMsPerRequest - result[b]!.cpuMsPerRequest) * 1000).toFixed(0)} µs CPU, ${(result[a]!.p50 - result[b]!.p50).toFixed(2)} ms p50`;
    // Each comparison is printed when both of its configurations ran.
    const comparisons: [string[], () => string][] = [
      [
        ['protected-memory', 'plain'],
        () => `protections, memory: +${d('protected-memory', 'plain')} per request`,
      ],
      [
        ['protected-redis', 'plain'],
        () => `protections, Redis:  +${d('protected-redis', 'plain')} per request`,
      ],
      [
        ['telemetry-on', 'telemetry-off'],
        () => `metrics+tracing+decision log: ${d('telemetry-on', 'telemetry-off')} per request (on − off)`,
      ],
      [
        ['cache-hit', 'cache-miss'],
        () =>
          `cache hit / miss, JSON:   CPU per request ${ratio('cache-hit', 'cache-miss')}×, time to answer p50 ${timeRatio('cache-hit', 'cache-miss')}× (target: well under 0.1×)`,
      ],
      [
        ['cache-hit-stream', 'cache-miss-stream'],
        () =>
          `cache hit / miss, stream: CPU per request ${ratio('cache-hit-stream', 'cache-miss-stream')}×, time to answer p50 ${timeRatio('cache-hit-stream', 'cache-miss-stream')}× (target: well under 0.1×)`,
      ],
      [
        ['floor', 'cache-miss'],
        () =>
          `floor (authenticated GET /v1/models): ${(cpu('floor') * 1000).toFixed(0)} µs CPU per request = ${ratio('floor', 'cache-miss')}× of a JSON miss: no answer from this HTTP stack costs less`,
      ],
    ];
    lines.push(
      '',
      ...comparisons.filter(([names]) => names.every((n) => n in result)).map(([, line]) => line()),
      '',
      ...all.map((c) => `  ${c.name}: ${c.what}`),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(
      join(repoRoot, 'bench/results/feature-overhead.json'),
      JSON.stringify({ date: new Date().toISOString(), result, rss }, null, 2),
    );
    return result;
  } finally {
    await supervisor.stopAll();
    await upstream.close();
    sink.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes('--help')) {
    process.stdout.write(
      `npm run bench:features -- [--quick] [--rounds N] [--only ${configs('', '')
        .map((c) => c.name)
        .join(',')}]\n`,
    );
  } else {
    const quick = args.includes('--quick');
    const rounds = Number(value('--rounds') ?? (quick ? 1 : 3));
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number ≥ 1');
    await runFeatureOverheadBench({
      rounds,
      measureMs: quick ? 1500 : 3000,
      warmMs: quick ? 800 : 1500,
      only: value('--only')?.split(','),
    });
  }
}
