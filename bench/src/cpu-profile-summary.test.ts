import { describe, expect, it } from 'vitest';
import { type CpuProfile, placeOf, summarizeCpuProfile } from './cpu-profile-summary.ts';

const root = '/repo/';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// root ─ (idle)
//      ─ handle (server/src/app.ts) ─ parse (undici) ─ handle (recursion)
//      ─ (garbage collector)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 6] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('handle', 'file:///repo/server/src/app.ts', 9), children: [4] },
    { id: 4, callFrame: frame('parse', 'file:///repo/node_modules/undici/lib/core.js', 99), children: [5] },
    { id: 5, callFrame: frame('handle', 'file:///repo/server/src/app.ts', 9) },
    { id: 6, callFrame: frame('(garbage collector)') },
  ],
  // One sample each ms: 4 idle, 2 in handle, 3 in parse, 1 in the nested handle, 2 in GC.
  samples: [2, 2, 2, 2, 3, 3, 4, 4, 4, 5, 6, 6],
  timeDeltas: Array<number>(12).fill(1000),
};

describe('summarizeCpuProfile', () => {
  it('charges each sample to its function and leaves idle time out of the shares', () => {
    const s = summarizeCpuProfile(profile, { root });
    expect(s.idleMs).toBe(4);
    expect(s.busyMs).toBe(8);
    const handle = s.functions.find((f) => f.name === 'handle')!;
    expect(handle.selfMs).toBe(3);
    expect(handle.where).toBe('server/src/app.ts:10');
    expect(handle.selfShare).toBeCloseTo(3 / 8);
  });

  it('sums self time by package and repository file', () => {
    const places = Object.fromEntries(
      summarizeCpuProfile(profile, { root }).places.map((p) => [p.where, p.selfMs]),
    );
    expect(places).toEqual({ undici: 3, 'server/src/app.ts': 3, '(garbage collector)': 2 });
  });

  it('counts a recursive function’s inclusive time once', () => {
    const [handle] = summarizeCpuProfile(profile, { root }).ownInclusive;
    expect(handle).toMatchObject({ name: 'handle', totalMs: 6, selfMs: 2 });
  });

  it('leaves out the first skipMs (startup)', () => {
    const s = summarizeCpuProfile(profile, { root, skipMs: 8 });
    expect(s.busyMs).toBe(4);
    expect(s.idleMs).toBe(0);
  });
});

describe('placeOf', () => {
  it('names scoped packages, node internals and the repository’s own files', () => {
    expect(placeOf('file:///repo/node_modules/@fastify/error/index.js', 'f', root)).toBe('@fastify/error');
    expect(placeOf('node:internal/streams/writable', 'f', root)).toBe('node:internal');
    expect(placeOf('node:events', 'f', root)).toBe('node:events');
    expect(placeOf('file:///repo/engine/src/pipeline/decide.ts', 'f', root)).toBe(
      'engine/src/pipeline/decide.ts',
    );
    expect(placeOf('', '(program)', root)).toBe('(program)');
  });
});
