import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainModule } from './is-main-module.ts';

/**
 * Where a process spent its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`, or the overhead
 * bench's `--cpu-prof <dir>`): self time per function and per package or source file, plus the
 * time inclusive of callees for functions of the project's own code.
 * `node --import tsx bench/src/cpu-profile-summary.ts <file.cpuprofile> [--top 25] [--skip-ms 5000]`
 */

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One line of a summary: a function, or a package / file. */
export interface ProfileEntry {
  name: string;
  /** Where it lives: package name, repository path or node internal. */
  where: string;
  selfMs: number;
  /** Share of all sampled time (idle excluded). */
  selfShare: number;
  /** Own time plus that of its callees (functions of the repository only). */
  totalMs?: number;
}

/** A profile summarized. */
export interface ProfileSummary {
  /** Sampled time without `(idle)`, in ms. */
  busyMs: number;
  idleMs: number;
  functions: ProfileEntry[];
  /** Self time by npm package, repository file or engine bucket (GC, program, node internals). */
  places: ProfileEntry[];
  /** The repository's own functions by inclusive time. */
  ownInclusive: ProfileEntry[];
}

/** Where a frame's code lives: `fastify`, `server/src/app.ts`, `node:internal`, `(garbage collector)`. */
export function placeOf(url: string, functionName: string, root: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const path = url.replace(/^file:\/\//, '');
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg?.[1] && !path.includes('node_modules/@switchyard/')) return pkg[1];
  const inRepo = path.includes('/@switchyard/')
    ? path.slice(path.indexOf('/@switchyard/') + 1).replace(/^@switchyard\//, '')
    : relative(root, path);
  return inRepo.startsWith('..') ? path : inRepo;
}

/** Options of `summarizeCpuProfile`. */
export interface SummaryOptions {
  /** The repository root: paths are shown relative to it. */
  root: string;
  /** Entries per list (default 25). */
  top?: number;
  /** Samples in the first `skipMs` of the profile are left out (startup: module loading, compiling). */
  skipMs?: number;
}

/** Summarizes `profile`. */
export function summarizeCpuProfile(profile: CpuProfile, options: SummaryOptions): ProfileSummary {
  const { root, top = 25, skipMs = 0 } = options;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; it is charged to the node sampled at i.
  let atUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    atUs += delta;
    if (atUs <= skipMs * 1000) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') idleUs += us;
    else busyUs += us;
  }

  const functions = new Map<string, ProfileEntry>();
  const places = new Map<string, ProfileEntry>();
  const add = (map: Map<string, ProfileEntry>, key: string, name: string, where: string, us: number) => {
    const entry = map.get(key) ?? { name, where, selfMs: 0, selfShare: 0 };
    entry.selfMs += us / 1000;
    map.set(key, entry);
  };
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const where = placeOf(url, functionName, root);
    const name = functionName || '(anonymous)';
    add(functions, `${name}@${url}:${lineNumber}`, name, `${where}:${lineNumber + 1}`, us);
    add(places, where, where, where, us);
  }

  // Inclusive time of the repository's own functions: each node's subtree, counted once per
  // function even when it recurses.
  const subtreeUs = new Map<number, number>();
  const subtree = (id: number): number => {
    const cached = subtreeUs.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id)!;
    let us = selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) us += subtree(child);
    subtreeUs.set(id, us);
    return us;
  };
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const keyOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName}@${f.url}:${f.lineNumber}`;
  };
  const ownInclusive = new Map<string, ProfileEntry>();
  for (const n of profile.nodes) {
    const where = placeOf(n.callFrame.url, n.callFrame.functionName, root);
    if (!/^(server|engine)\/src\//.test(where)) continue;
    const key = keyOf(n.id);
    // Skip a frame whose ancestor is the same function (recursion): the ancestor already holds it.
    let up = parentOf.get(n.id);
    let nested = false;
    while (up !== undefined) {
      if (keyOf(up) === key) {
        nested = true;
        break;
      }
      up = parentOf.get(up);
    }
    if (nested) continue;
    const entry = ownInclusive.get(key) ?? {
      name: n.callFrame.functionName || '(anonymous)',
      where: `${where}:${n.callFrame.lineNumber + 1}`,
      selfMs: 0,
      selfShare: 0,
      totalMs: 0,
    };
    entry.totalMs = (entry.totalMs ?? 0) + subtree(n.id) / 1000;
    entry.selfMs += (selfUs.get(n.id) ?? 0) / 1000;
    ownInclusive.set(key, entry);
  }

  const busyMs = busyUs / 1000;
  const rank = (entries: Iterable<ProfileEntry>, by: 'selfMs' | 'totalMs') =>
    [...entries]
      .map((e) => ({ ...e, selfShare: busyMs > 0 ? e.selfMs / busyMs : 0 }))
      .sort((a, b) => (b[by] ?? 0) - (a[by] ?? 0))
      .slice(0, top);
  return {
    busyMs,
    idleMs: idleUs / 1000,
    functions: rank(functions.values(), 'selfMs'),
    places: rank(places.values(), 'selfMs'),
    ownInclusive: rank(ownInclusive.values(), 'totalMs'),
  };
}

/** The summary as text. */
export function formatProfileSummary(summary: ProfileSummary): string {
  const pct = (v: number) => `${(v * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `busy ${(summary.busyMs / 1000).toFixed(2)} s, idle ${(summary.idleMs / 1000).toFixed(2)} s`,
    '',
    'self time by place:',
  ];
  for (const p of summary.places)
    lines.push(`  ${pct(p.selfShare)}  ${p.selfMs.toFixed(0).padStart(7)} ms  ${p.where}`);
  lines.push('', 'self time by function:');
  for (const f of summary.functions)
    lines.push(`  ${pct(f.selfShare)}  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  (${f.where})`);
  lines.push('', 'repository functions by inclusive time (self + callees):');
  for (const f of summary.ownInclusive)
    lines.push(
      `  ${pct((f.totalMs ?? 0) / summary.busyMs)}  ${(f.totalMs ?? 0).toFixed(0).padStart(7)} ms  ${f.name}  (${f.where})`,
    );
  return lines.join('\n');
}

if (isMainModule(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, 'skip-ms': { type: 'string', default: '0' } },
  });
  const file = positionals[0];
  if (!file) {
    console.error(
      'usage: cpu-profile-summary <file.cpuprofile> [--top <n>] [--skip-ms <startup ms to leave out>]',
    );
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const root = new URL('../../', import.meta.url).pathname;
  const summary = summarizeCpuProfile(profile, {
    root,
    top: Number(values.top),
    skipMs: Number(values['skip-ms']),
  });
  console.log(formatProfileSummary(summary));
}
