import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainModule } from './is-main-module.ts';
import {
  createLoadPool,
  httpSend,
  type LoadJob,
  type LoadJobReply,
  type LoadResult,
} from './load-generator.ts';
import { buildOverheadPolicy } from './overhead-bench-policy.ts';
import {
  CellAccumulator,
  deriveOverhead,
  formatOverheadReport,
  type OverheadDerived,
  type RunDescription,
  type ScenarioFigures,
} from './overhead-report.ts';
import {
  type BenchTiming,
  type Endpoint,
  fullTiming,
  overheadScenarios,
  quickTiming,
  type Scenario,
  type TargetAccess,
  type TargetName,
  targetDescriptions,
  targetNames,
  targetRequest,
} from './overhead-scenarios.ts';
import { clockTicksPerSecond, findProcessTree, readPeakRssMb, readStatusKb } from './process-stats.ts';
import {
  detectPinning,
  type Pinning,
  ProcessSupervisor,
  pinSelf,
  type SupervisedProcess,
} from './process-supervisor.ts';

/**
 * `npm run bench:overhead`: what a gateway adds on top of its upstream. Starts a fast fake
 * upstream, a bare Node passthrough proxy, Switchyard and Portkey (each gateway pinned to one core,
 * the load generator and the upstream to the other), then runs every scenario against every target
 * in short alternating rounds, so noise hits all of them alike. Prints a table, the ratios against
 * the baselines measured in the same run and the targets Switchyard is held to, and writes
 * `bench/results/overhead.json`.
 *
 * Flags: `--quick` (one short round, a smoke run), `--only switchyard,direct`, `--scenario chat-c32,stream-c64`,
 * `--rounds <n>`, `--out <file>`, `--no-pin`, `--cpu-prof <dir>` (profile Switchyard).
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const benchDir = fileURLToPath(new URL('./', import.meta.url));
/** Where the JSON results go by default (git-ignored). */
export const defaultResultsFile = join(repoRoot, 'bench/results/overhead.json');

/** Options of `runOverheadBench`. */
export interface OverheadBenchOptions {
  /** Targets to run (`direct` is always added: every comparison needs it). */
  targets: readonly TargetName[];
  scenarios: readonly Scenario[];
  timing: BenchTiming;
  /** Pin gateways and clients to separate cores when `taskset` and two cores are there (default true). */
  pin?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Stops the run early; every process is stopped all the same. */
  signal?: AbortSignal;
  /**
   * Runs Switchyard under `node --cpu-prof`, writing its `.cpuprofile` (warm-up and all scenarios)
   * into this folder when it exits; summarize it with `src/cpu-profile-summary.ts`.
   */
  cpuProfileDir?: string;
}

/** A finished run. */
export interface OverheadBenchReport {
  meta: {
    date: string;
    node: string;
    cpu: string;
    cpuCount: number;
    pinning: Pinning;
    timing: BenchTiming;
    targets: TargetName[];
    portkeyVersion: string | undefined;
    switchyardLogLevel: string;
    /** The processes each gateway was charged for, and the core it ran on. */
    gatewayProcesses: Record<string, { pids: number[]; core: number | undefined; idleRssMb: number }>;
    notes: string[];
  };
  scenarios: (Omit<Scenario, 'targets'> & { cells: ScenarioFigures['cells'] })[];
  derived: OverheadDerived;
  /** The printed report. */
  text: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntilReady(
  supervisor: ProcessSupervisor,
  proc: SupervisedProcess,
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  let exited: string | undefined;
  proc.exited.then((how) => {
    exited = how;
  });
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (exited)
      throw new Error(`${proc.name} exited (${exited}) before it was ready:\n${supervisor.logTail(proc)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline)
      throw new Error(
        `${proc.name} was not ready at ${url} within ${timeoutMs / 1000} s:\n${supervisor.logTail(proc)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Sends one job to the load generator and waits for its reply. */
function runJob(
  supervisor: ProcessSupervisor,
  generator: SupervisedProcess,
  job: LoadJob,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: LoadJobReply) => {
      done();
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`load generator failed: ${reply.error}`));
    };
    const onExit = () => {
      done();
      reject(new Error(`load generator exited mid-job:\n${supervisor.logTail(generator)}`));
    };
    const done = () => {
      generator.child.off('message', onMessage);
      generator.child.off('exit', onExit);
    };
    generator.child.on('message', onMessage);
    generator.child.once('exit', onExit);
    generator.child.send(job);
  });
}

/** One request of each kind, checked like the load generator checks them; the error, if any. */
async function sanityCheck(access: TargetAccess): Promise<string | undefined> {
  const pool = createLoadPool(access.origin, 2);
  try {
    for (const endpoint of ['chat', 'stream', 'embeddings'] satisfies Endpoint[]) {
      const outcome = await httpSend(pool, targetRequest(access, endpoint))().catch((err: Error) => ({
        ok: false,
        error: err.message,
      }));
      if (!outcome.ok) return `${endpoint}: ${outcome.error}`;
    }
    return undefined;
  } finally {
    await pool.close();
  }
}

function portkeyVersion(): string | undefined {
  try {
    const pkg = JSON.parse(
      readFileSync(join(repoRoot, 'node_modules/@portkey-ai/gateway/package.json'), 'utf8'),
    ) as { version?: string };
    return pkg.version;
  } catch {
    return undefined;
  }
}

/** A gateway process and how clients reach it. */
interface StartedGateway {
  proc: SupervisedProcess;
  origin: string;
  readyUrl: string;
}

/** What starting a gateway needs to know. */
interface GatewaySetup {
  supervisor: ProcessSupervisor;
  upstreamOrigin: string;
  workDir: string;
  core: number | undefined;
  cpuProfileDir: string | undefined;
}

const node = process.execPath;
const tsx = ['--import', 'tsx'];

/** Starts one gateway on a free port, pinned to the gateway core; it is not ready yet. */
async function startGateway(
  name: Exclude<TargetName, 'direct'>,
  setup: GatewaySetup,
): Promise<StartedGateway> {
  const { supervisor, upstreamOrigin, workDir, core } = setup;
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  if (name === 'passthrough') {
    const script = join(benchDir, 'passthrough-proxy.ts');
    const args = [...tsx, script, '--port', String(port), '--upstream', upstreamOrigin, '--exit-with-stdin'];
    return {
      proc: supervisor.start(name, node, args, { core, stdinPipe: true }),
      origin,
      readyUrl: `${origin}/healthz`,
    };
  }
  if (name === 'portkey') {
    const args = [join(repoRoot, 'node_modules/.bin/gateway'), `--port=${port}`, '--headless'];
    return { proc: supervisor.start(name, node, args, { core }), origin, readyUrl: `${origin}/` };
  }
  const policyDir = join(workDir, 'policy');
  mkdirSync(policyDir, { recursive: true });
  writeFileSync(join(policyDir, 'policy.yaml'), buildOverheadPolicy(`${upstreamOrigin}/v1`));
  // The embedded single-node setup (memory + SQLite, admin API off) whatever this shell has set;
  // only the log level is the user's to choose.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([v]) => !v.startsWith('SWITCHYARD_') || v === 'SWITCHYARD_LOG_LEVEL'),
  );
  env.SWITCHYARD_SHUTDOWN_TIMEOUT_MS = '1000';
  const profile = setup.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(setup.cpuProfileDir)] : [];
  const serve = ['serve', '--policy', policyDir, '--port', String(port), '--host', '127.0.0.1'];
  const args = [
    ...profile,
    join(repoRoot, 'node_modules/.bin/switchyard'),
    ...serve,
    '--state-dir',
    switchyardStateDir(workDir),
  ];
  return { proc: supervisor.start(name, node, args, { core, env }), origin, readyUrl: `${origin}/readyz` };
}

function switchyardStateDir(workDir: string): string {
  return join(workDir, 'switchyard-state');
}

/** How the load generator reaches a target (Switchyard: its dev key, once it has started). */
function accessTo(name: TargetName, origin: string, upstreamOrigin: string, workDir: string): TargetAccess {
  const headers = { authorization: 'Bearer sk-bench-not-a-real-key' };
  const upstreamModels = { chatModel: 'bench-model', embeddingModel: 'bench-model' };
  if (name === 'switchyard') {
    const key = readFileSync(join(switchyardStateDir(workDir), 'dev-key'), 'utf8').trim();
    return {
      origin,
      chatModel: 'fast',
      embeddingModel: 'embed',
      headers: { authorization: `Bearer ${key}` },
    };
  }
  if (name === 'portkey') {
    const portkeyHeaders = {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstreamOrigin}/v1`,
    };
    return { origin, ...upstreamModels, headers: { ...headers, ...portkeyHeaders } };
  }
  return { origin, ...upstreamModels, headers };
}

/** Everything a measurement needs once the processes run. */
interface MeasureContext {
  supervisor: ProcessSupervisor;
  generator: SupervisedProcess;
  upstreamPid: number;
  access: Map<TargetName, TargetAccess>;
  /** Each gateway's process tree (CPU and RSS are read over it). */
  trees: Map<TargetName, number[]>;
  ticksPerSecond: number;
  timing: BenchTiming;
  log: (line: string) => void;
  signal: AbortSignal | undefined;
}

/** Throwaway load for each target: chat, embeddings and streams, so every JIT involved settles. */
async function warmUp(targets: readonly TargetName[], ctx: MeasureContext): Promise<void> {
  for (const target of targets) {
    for (const endpoint of ['chat', 'embeddings', 'stream'] satisfies Endpoint[]) {
      ctx.signal?.throwIfAborted();
      await runJob(ctx.supervisor, ctx.generator, {
        request: targetRequest(ctx.access.get(target)!, endpoint),
        mode: 'closed',
        concurrency: 64,
        warmupMs: 0,
        durationMs: ctx.timing.initialWarmupMs,
        gatewayPids: [],
        clientPids: [],
      });
    }
    ctx.log(`warmed up ${target}`);
  }
}

/** Runs one scenario: every round runs each target once, in an order rotated every round. */
async function measureScenario(
  scenario: Scenario,
  targets: readonly TargetName[],
  ctx: MeasureContext,
): Promise<ScenarioFigures> {
  const runs = targets.filter((t) => !scenario.targets || scenario.targets.includes(t));
  const cells = new Map(
    runs.map((t) => [t, new CellAccumulator(t !== 'direct', ctx.ticksPerSecond)] as const),
  );
  for (let round = 0; round < ctx.timing.rounds; round++) {
    // Rotating the order spreads slow drifts (thermal, neighbours) over every target.
    const order = runs.map((_, i) => runs[(i + round) % runs.length]!);
    for (const target of order) {
      ctx.signal?.throwIfAborted();
      const tree = ctx.trees.get(target);
      const result = await runJob(ctx.supervisor, ctx.generator, {
        request: targetRequest(ctx.access.get(target)!, scenario.endpoint),
        mode: scenario.mode,
        concurrency: scenario.concurrency,
        rate: scenario.rate,
        warmupMs: ctx.timing.warmupMs,
        durationMs: scenario.phase === 'long' ? ctx.timing.longMs : ctx.timing.shortMs,
        gatewayPids: tree ?? [],
        clientPids: [ctx.upstreamPid],
      });
      const cell = cells.get(target)!;
      cell.add(result);
      if (tree) cell.peakRssMb = readPeakRssMb(tree);
    }
    const throughputs = runs.map((t) => `${t} ${cells.get(t)!.lastRoundReqPerSec.toFixed(0)} req/s`);
    ctx.log(`${scenario.name} round ${round + 1}/${ctx.timing.rounds}: ${throughputs.join(' · ')}`);
  }
  return { scenario, cells: Object.fromEntries([...cells].map(([t, c]) => [t, c.figures()])) };
}

/** Runs the overhead bench and returns its figures and printed report. */
export async function runOverheadBench(options: OverheadBenchOptions): Promise<OverheadBenchReport> {
  const log = options.log ?? (() => {});
  const signal = options.signal;
  const targets = targetNames.filter((t) => t === 'direct' || options.targets.includes(t));
  const notes: string[] = [];
  const pinning: Pinning =
    options.pin === false ? { pinned: false, reason: 'pinning turned off (--no-pin)' } : detectPinning();
  const workDir = mkdtempSync(join(tmpdir(), 'switchyard-overhead-'));
  const supervisor = new ProcessSupervisor(workDir, repoRoot, pinning.pinned);
  const gatewayCore = pinning.pinned ? pinning.gatewayCore : undefined;
  const clientCore = pinning.pinned ? pinning.clientCore : undefined;
  const killOnExit = () => supervisor.killAllNow();
  process.on('exit', killOnExit);
  const onAbort = () => {
    supervisor.stopAll(1000).catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let succeeded = false;
  try {
    if (clientCore !== undefined && !pinSelf(clientCore)) notes.push('could not pin the orchestrator itself');
    const switchyardLogLevel =
      process.env.SWITCHYARD_LOG_LEVEL ?? 'info (default; one line per request, to a file)';

    const upstreamPort = await freePort();
    const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
    const upstreamArgs = [
      ...tsx,
      join(benchDir, 'fake-upstream.ts'),
      '--port',
      String(upstreamPort),
      '--exit-with-stdin',
    ];
    const upstream = supervisor.start('upstream', node, upstreamArgs, { core: clientCore, stdinPipe: true });
    const generator = supervisor.start(
      'load-generator',
      node,
      [...tsx, join(benchDir, 'load-generator.ts')],
      {
        core: clientCore,
        ipc: true,
      },
    );
    const generatorReady = new Promise<void>((resolve, reject) => {
      generator.child.once('message', () => resolve());
      generator.exited.then((how) =>
        reject(new Error(`load generator exited (${how}):\n${supervisor.logTail(generator)}`)),
      );
    });
    const gateways = new Map<TargetName, StartedGateway>();
    const setup: GatewaySetup = {
      supervisor,
      upstreamOrigin,
      workDir,
      core: gatewayCore,
      cpuProfileDir: options.cpuProfileDir,
    };
    for (const name of targets) if (name !== 'direct') gateways.set(name, await startGateway(name, setup));
    if (gateways.has('portkey'))
      notes.push(
        'Portkey saturates near 1,000 req/s on one core: chat-open-300 is the below-saturation comparison for it',
      );
    log(
      `starting: upstream, load generator${[...gateways.keys()].map((g) => `, ${g}`).join('')} (logs in ${workDir})`,
    );
    await Promise.all([
      waitUntilReady(supervisor, upstream, `${upstreamOrigin}/healthz`, 30_000, signal),
      generatorReady,
      ...[...gateways.values()].map((g) => waitUntilReady(supervisor, g.proc, g.readyUrl, 90_000, signal)),
    ]);

    const access = new Map<TargetName, TargetAccess>([
      ['direct', accessTo('direct', upstreamOrigin, upstreamOrigin, workDir)],
    ]);
    for (const [name, g] of gateways) access.set(name, accessTo(name, g.origin, upstreamOrigin, workDir));
    const active: TargetName[] = [];
    for (const name of targets) {
      const problem = await sanityCheck(access.get(name)!);
      if (!problem) active.push(name);
      else if (name === 'direct') throw new Error(`the fake upstream answers wrongly: ${problem}`);
      else notes.push(`${name} skipped: its first requests failed (${problem})`);
    }

    const trees = new Map<TargetName, number[]>();
    const idleRssMb = new Map<TargetName, number>();
    for (const [name, g] of gateways) {
      const tree = findProcessTree(g.proc.pid);
      trees.set(name, tree);
      idleRssMb.set(
        name,
        tree.reduce((mb, pid) => mb + readStatusKb(pid, 'VmRSS') / 1024, 0),
      );
    }
    const ctx: MeasureContext = {
      supervisor,
      generator,
      upstreamPid: upstream.pid,
      access,
      trees,
      ticksPerSecond: clockTicksPerSecond(),
      timing: options.timing,
      log,
      signal,
    };
    await warmUp(active, ctx);
    const results: ScenarioFigures[] = [];
    for (const scenario of options.scenarios) results.push(await measureScenario(scenario, active, ctx));

    const derived = deriveOverhead(results);
    const { timing } = options;
    const run: RunDescription = {
      pinning: pinning.pinned
        ? `gateway under test on core ${pinning.gatewayCore}; load generator, upstream and orchestrator on core ${pinning.clientCore} (taskset)`
        : `NOT pinned: ${pinning.reason}; gateways and clients share every core, so ratios are noisier`,
      rounds: timing.rounds,
      phases:
        `first ${timing.initialWarmupMs} ms of chat, embeddings and streams per target thrown away, then warm-up ` +
        `${timing.warmupMs} ms, measured ${timing.shortMs} ms (1,000 req/s open loop: ${timing.longMs} ms) per target per round`,
      switchyardLogLevel,
      idleRss: [...idleRssMb].map(([name, mb]) => `${name} ${mb.toFixed(1)} MB`).join(', '),
      notes,
    };
    const text = formatOverheadReport(run, results, derived);
    succeeded = true;
    return {
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
        cpuCount: cpus().length,
        pinning,
        timing,
        targets: active,
        portkeyVersion: portkeyVersion(),
        switchyardLogLevel,
        gatewayProcesses: Object.fromEntries(
          [...gateways].map(([name, g]) => [
            name,
            { pids: trees.get(name) ?? [g.proc.pid], core: g.proc.core, idleRssMb: idleRssMb.get(name) ?? 0 },
          ]),
        ),
        notes,
      },
      scenarios: results.map(({ scenario, cells }) => {
        const { targets: _targets, ...rest } = scenario;
        return { ...rest, cells };
      }),
      derived,
      text,
    };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Writing a CPU profile on exit takes a few seconds more than a plain shutdown.
    await supervisor.stopAll(options.cpuProfileDir ? 20_000 : 3000);
    process.off('exit', killOnExit);
    if (succeeded) rmSync(workDir, { recursive: true, force: true });
    else log(`process logs kept in ${workDir}`);
  }
}

function parseList<T extends string>(
  flag: string,
  value: string | undefined,
  known: readonly T[],
): T[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!known.includes(n as T))
      throw new Error(`unknown ${flag} \`${n}\`: expected one of ${known.join(', ')}`);
  return names as T[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: npm run bench:overhead -- [--quick] [--only <targets>] [--scenario <names>] [--rounds <n>] [--out <file>] [--no-pin]',
        '  --cpu-prof <dir>: profile Switchyard into <dir>; summarize with `node --import tsx bench/src/cpu-profile-summary.ts <file>`',
        `  targets:   ${targetNames.map((t) => `${t} (${targetDescriptions[t]})`).join('\n             ')}`,
        `  scenarios: ${overheadScenarios.map((s) => `${s.name} (${s.title})`).join('\n             ')}`,
      ].join('\n'),
    );
    return 0;
  }
  const only = parseList('target', values.only, targetNames) ?? [...targetNames];
  const scenarioNames = parseList(
    'scenario',
    values.scenario,
    overheadScenarios.map((s) => s.name),
  );
  const scenarios = scenarioNames
    ? overheadScenarios.filter((s) => scenarioNames.includes(s.name))
    : overheadScenarios;
  const timing = { ...(values.quick ? quickTiming : fullTiming) };
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new Error(`invalid \`--rounds\`: expected an integer ≥ 1, got \`${values.rounds}\``);
    timing.rounds = rounds;
  }
  const outFile = values.out ?? defaultResultsFile;

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    console.error(`\n${signal}: stopping the bench's processes…`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let report: OverheadBenchReport;
  try {
    report = await runOverheadBench({
      targets: only,
      scenarios,
      timing,
      pin: !values['no-pin'],
      log: (line) => console.log(line),
      signal: controller.signal,
      cpuProfileDir: values['cpu-prof'],
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    console.error('bench:overhead interrupted; every process it started has been stopped');
    return 130;
  }
  console.log(`\n${report.text}`);
  mkdirSync(dirname(outFile), { recursive: true });
  const { text: _text, ...json } = report;
  writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), outFile) || outFile}`);
  return 0;
}

if (isMainModule(import.meta.url)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`bench:overhead failed: ${(err as Error).message ?? err}`);
      process.exitCode = 1;
    },
  );
}
