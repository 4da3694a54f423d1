import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProcessTree } from './process-stats.ts';

/**
 * Starts the bench's processes (upstream, gateways, load generator), pinned to a CPU core with
 * `taskset` when the machine allows it, each logging to its own file, and stops every one of them,
 * by PID, however the bench ends.
 */

/** How the bench may pin processes: two distinct cores, or not at all (and why). */
export type Pinning =
  | { pinned: true; gatewayCore: number; clientCore: number }
  | { pinned: false; reason: string };

/** CPUs this process may run on (`Cpus_allowed_list` of `/proc/self/status`). */
function allowedCpus(): number[] {
  try {
    const list = readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(.+)$/m)?.[1] ?? '';
    return list.split(',').flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      if (from === undefined || Number.isNaN(from)) return [];
      return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
    });
  } catch {
    return [];
  }
}

/**
 * The gateway core (the first allowed CPU) and the client core (the second), when `taskset` exists
 * and at least two CPUs are allowed.
 */
export function detectPinning(): Pinning {
  const cpus = allowedCpus();
  if (cpus.length < 2)
    return { pinned: false, reason: `only ${cpus.length || 'an unknown number of'} CPU(s) available` };
  const probe = spawnSync('taskset', ['-c', String(cpus[0]), 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0)
    return { pinned: false, reason: '`taskset` (util-linux) is not installed' };
  return { pinned: true, gatewayCore: cpus[0]!, clientCore: cpus[1]! };
}

/** Pins every thread of the running process to `core` (the orchestrator sits with the clients). */
export function pinSelf(core: number): boolean {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], {
    stdio: 'ignore',
  });
  return !result.error && result.status === 0;
}

/** A started process. */
export interface SupervisedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Its stdout and stderr. */
  logFile: string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<string>;
  /** The core it is pinned to, if any. */
  core: number | undefined;
}

/** Options of `ProcessSupervisor.start`. */
export interface StartOptions {
  /** Pinned to this core with `taskset -c` (when pinning is available). */
  core?: number;
  env?: NodeJS.ProcessEnv;
  /** Adds an IPC channel (the load generator). */
  ipc?: boolean;
  /** Gives the process a stdin pipe that closes when the bench exits (processes that watch it stop). */
  stdinPipe?: boolean;
}

/** Starts, tracks and stops the bench's child processes. */
export class ProcessSupervisor {
  private readonly logDir: string;
  private readonly cwd: string;
  private readonly usePinning: boolean;
  private readonly processes: SupervisedProcess[] = [];

  /**
   * @param logDir where each process's `<name>.log` goes.
   * @param cwd working directory of every process (the repository root).
   * @param usePinning whether `core` options are applied (`taskset` present, two cores).
   */
  constructor(logDir: string, cwd: string, usePinning: boolean) {
    this.logDir = logDir;
    this.cwd = cwd;
    this.usePinning = usePinning;
  }

  /** Starts `command args` as `name`. */
  start(name: string, command: string, args: string[], options: StartOptions = {}): SupervisedProcess {
    const logFile = join(this.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const pin = this.usePinning && options.core !== undefined;
    const [file, argv] = pin ? ['taskset', ['-c', String(options.core), command, ...args]] : [command, args];
    let child: ChildProcess;
    try {
      child = spawn(file, argv, {
        cwd: this.cwd,
        env: options.env ?? process.env,
        stdio: [options.stdinPipe ? 'pipe' : 'ignore', fd, fd, ...(options.ipc ? (['ipc'] as const) : [])],
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${name} (\`${file}\`)`);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
    });
    // A pipe to a dead child must not crash the bench.
    child.stdin?.on('error', () => {});
    const proc: SupervisedProcess = {
      name,
      pid: child.pid,
      child,
      logFile,
      exited,
      core: pin ? options.core : undefined,
    };
    this.processes.push(proc);
    return proc;
  }

  /** The last `lines` lines of a process's log (for error messages). */
  logTail(proc: SupervisedProcess, lines = 15): string {
    try {
      return readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops every process still running: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    const running = this.processes.filter(isRunning);
    await Promise.all(
      running.map(async (proc) => {
        proc.child.stdin?.end();
        if (proc.child.connected) proc.child.disconnect();
        // Its descendants too (tsx's esbuild service, workers): they can outlive the parent briefly.
        const descendants = findProcessTree(proc.pid).filter((pid) => pid !== proc.pid);
        proc.child.kill('SIGTERM');
        // SIGKILL after the grace period, and in either case wait until the process has really exited.
        const timer = setTimeout(() => {
          if (isRunning(proc)) proc.child.kill('SIGKILL');
        }, graceMs);
        await proc.exited;
        clearTimeout(timer);
        await waitForExit(descendants, graceMs);
      }),
    );
  }

  /** SIGKILLs every process still running, synchronously (for `process.on('exit')`). */
  killAllNow(): void {
    for (const proc of this.processes) if (isRunning(proc)) proc.child.kill('SIGKILL');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Waits until every pid is gone: SIGTERM, then SIGKILL once `graceMs` has passed. */
async function waitForExit(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (pids.some(isAlive)) {
    if (!killed && Date.now() >= deadline) {
      for (const pid of pids) signal(pid, 'SIGKILL');
      killed = true;
    }
    if (killed && Date.now() >= deadline + 2000) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isRunning(proc: SupervisedProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}
