import type { Deployment } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../providers/provider.ts';
import type { UpstreamTarget } from '../request/execute-plan.ts';
import { MemoryBreakerStore } from '../stores/memory/memory-breaker-store.ts';
import { BreakerMirror } from './breaker-mirror.ts';
import { countsAgainstBreaker, withBreaker } from './with-breaker.ts';

const deployment = { id: 'fast/a' } as unknown as Deployment;
const target = {
  deployment,
  adapter: {} as never,
  call: { deployment, signal: new AbortController().signal, requestId: 'r' },
} as UpstreamTarget;
const settings = { failureRatio: 0.5, minRequests: 2, windowMs: 10_000, openMs: 1000 };
const err = (status: number, kind: UpstreamError['kind'] = 'status') =>
  new UpstreamError(`upstream ${status}`, kind, status, 'upstream_error', 'x', status);

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const store = new MemoryBreakerStore();
  const mirror = new BreakerMirror(store);
  const wrap = withBreaker({ store, mirror, settings, clock });
  return { store, mirror, wrap, clock, advance: (ms: number) => (now += ms) };
}

describe('withBreaker', () => {
  it('opens after enough upstream failures, then refuses at once with 503 circuit_open without calling', async () => {
    const { wrap, mirror, clock } = setup();
    let calls = 0;
    const failing = wrap(async () => {
      calls++;
      throw err(500);
    });
    await expect(failing(target)).rejects.toMatchObject({ status: 500 });
    await expect(failing(target)).rejects.toMatchObject({ status: 500 });
    expect(mirror.stateOf('fast/a', clock.now())).toBe('open');
    expect(mirror.snapshot(clock.now()).breakers).toEqual({ 'fast/a': 'open' });
    await expect(failing(target)).rejects.toMatchObject({
      status: 503,
      code: 'circuit_open',
      retryAfterMs: 1000,
    });
    expect(calls).toBe(2);
  });

  it('lets exactly one probe through when half-open; its success closes the breaker', async () => {
    const { wrap, mirror, clock, advance } = setup();
    const fail = wrap(async () => {
      throw err(502);
    });
    await fail(target).catch(() => undefined);
    await fail(target).catch(() => undefined);
    advance(1000);
    expect(mirror.snapshot(clock.now()).breakers).toBeUndefined();
    let release!: () => void;
    const slow = wrap(() => new Promise<string>((resolve) => (release = () => resolve('ok'))));
    const probe = slow(target);
    await new Promise((r) => setImmediate(r));
    await expect(wrap(async () => 'second')(target)).rejects.toMatchObject({ code: 'circuit_open' });
    release();
    await expect(probe).resolves.toBe('ok');
    await new Promise((r) => setImmediate(r));
    expect(mirror.stateOf('fast/a', clock.now())).toBe('closed');
    await expect(wrap(async () => 'after')(target)).resolves.toBe('after');
  });

  it('counts only upstream-side failures, never the client’s own mistakes or its going away', async () => {
    expect([400, 401, 404, 413, 422].map((s) => countsAgainstBreaker(err(s)))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([408, 429, 500, 502, 503].map((s) => countsAgainstBreaker(err(s)))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(countsAgainstBreaker(err(504, 'timeout'))).toBe(true);
    expect(countsAgainstBreaker(err(502, 'connect'))).toBe(true);
    expect(countsAgainstBreaker(err(499, 'aborted'))).toBe(false);
    const { wrap, mirror, clock } = setup();
    const clientError = wrap(async () => {
      throw err(400);
    });
    for (let i = 0; i < 5; i++) await clientError(target).catch(() => undefined);
    expect(mirror.stateOf('fast/a', clock.now())).toBe('closed');
  });

  it('sees breakers other replicas opened, through a background refresh of the store', async () => {
    const { store, mirror, clock } = setup();
    await mirror.refresh(clock.now());
    mirror.observe('fast/a', 'closed', clock.now(), 1000);
    await store.record('fast/a', 'failure', clock.now(), settings);
    await store.record('fast/a', 'failure', clock.now(), settings);
    expect(mirror.stateOf('fast/a', clock.now())).toBe('closed');
    await mirror.refresh(clock.now());
    expect(mirror.snapshot(clock.now()).breakers).toEqual({ 'fast/a': 'open' });
  });
});
