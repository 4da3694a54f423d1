import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of other processes, read from Linux `/proc`, so the bench charges each
 * gateway for the CPU it burned (utime + stime, its children included) and its peak resident set.
 */

/** Fields of `/proc/<pid>/stat` after the `(comm)` field, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/**
 * utime + stime of `pids` in clock ticks, plus the ticks of children they have already waited for
 * (cutime + cstime). A process that has exited counts 0.
 */
export function readCpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // Field 14 is utime; the slice starts at field 3 (state).
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks;
}

/** `pid` and every live descendant of it (a gateway that forks workers is charged for them too). */
export function findProcessTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f) parentOf.set(Number(entry), Number(f[1]));
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i] && !tree.includes(child)) tree.push(child);
  }
  return tree.filter((p) => p === pid || parentOf.has(p));
}

/** A `/proc/<pid>/status` field in kB (`VmHWM` is the peak RSS, `VmRSS` the current one); 0 if gone. */
export function readStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Peak RSS in MB of a process tree: the sum of each member's VmHWM (an upper bound for a tree). */
export function readPeakRssMb(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + readStatusKb(pid, 'VmHWM'), 0) / 1024;
}

/** Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`, 100 on nearly every Linux). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
