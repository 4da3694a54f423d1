import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLoadPool,
  httpSend,
  type LoadClock,
  runClosedLoop,
  runOpenLoop,
  type Send,
  scheduledCount,
  scheduledSendTime,
} from './load-generator.ts';

/** A clock that jumps from timer to timer once every pending promise has settled. */
class VirtualClock implements LoadClock {
  /** Added to every sleep: a generator that wakes up late. */
  private readonly oversleepMs: number;
  private t = 0;
  private timers: { at: number; resolve: () => void }[] = [];

  constructor(oversleepMs = 0) {
    this.oversleepMs = oversleepMs;
  }

  now(): number {
    return this.t;
  }

  sleepUntil(atMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: Math.max(this.t, atMs + this.oversleepMs), resolve });
    });
  }

  /** Runs virtual time until `work` settles. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.finally(() => {
      settled = true;
    });
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return work;
      this.timers.sort((a, b) => a.at - b.at);
      const timer = this.timers.shift();
      if (!timer) throw new Error('deadlock: nothing settled and no timer pending');
      this.t = timer.at;
      timer.resolve();
    }
  }
}

/** One server handling requests first-in first-out, `serviceMs` each, that freezes during `stall`. */
function fifoServer(clock: LoadClock, serviceMs: number, stall?: { atMs: number; forMs: number }): Send {
  let freeAt = 0;
  return async () => {
    let start = Math.max(clock.now(), freeAt);
    if (stall && start >= stall.atMs && start < stall.atMs + stall.forMs) start = stall.atMs + stall.forMs;
    freeAt = start + serviceMs;
    await clock.sleepUntil(freeAt);
    return { ok: true };
  };
}

describe('open-loop schedule', () => {
  it('spaces sends evenly from the start time', () => {
    expect(scheduledSendTime(100, 1000, 0)).toBe(100);
    expect(scheduledSendTime(100, 1000, 5)).toBe(105);
    expect(scheduledSendTime(0, 300, 3)).toBeCloseTo(10, 9);
    expect(scheduledCount(2000, 300)).toBe(600);
    expect(scheduledCount(3000, 1000)).toBe(3000);
  });

  it('charges a stall to every request it delayed, where a closed loop sees one slow request', async () => {
    const stall = { atMs: 500, forMs: 100 };
    const openClock = new VirtualClock();
    const open = await openClock.run(
      runOpenLoop({
        rate: 1000,
        durationMs: 1000,
        maxOutstanding: 1000,
        send: fifoServer(openClock, 0.5, stall),
        clock: openClock,
      }),
    );
    expect(open.completed).toBe(1000);
    expect(open.dropped).toBe(0);
    expect(open.latency.percentile(50)).toBeCloseTo(0.5, 2);
    // ~100 requests were scheduled during the stall and more queued behind it: well over 1% are slow.
    expect(open.latency.percentile(95)).toBeGreaterThan(20);
    expect(open.latency.maxMs).toBeCloseTo(100.5, 0);

    const closedClock = new VirtualClock();
    const closed = await closedClock.run(
      runClosedLoop({
        concurrency: 1,
        durationMs: 1000,
        send: fifoServer(closedClock, 0.5, stall),
        clock: closedClock,
      }),
    );
    expect(closed.latency.percentile(99)).toBeCloseTo(0.5, 2);
    expect(closed.latency.maxMs).toBeGreaterThan(50);
  });

  it('catches up after a late wake-up instead of shifting the schedule, and counts the lag', async () => {
    const clock = new VirtualClock(3);
    const stats = await clock.run(
      runOpenLoop({ rate: 1000, durationMs: 200, maxOutstanding: 100, send: fifoServer(clock, 0.1), clock }),
    );
    expect(stats.completed).toBe(200);
    expect(stats.sendLag.percentile(50)).toBeGreaterThan(0.5);
    // Latency runs from the schedule, so the generator's own lag is in it, never hidden.
    expect(stats.latency.percentile(50)).toBeGreaterThanOrEqual(stats.sendLag.percentile(50));
  });

  it('counts requests it could not send while maxOutstanding stayed full as dropped', async () => {
    const clock = new VirtualClock();
    const hung: Send = async () => {
      await clock.sleepUntil(5000);
      return { ok: true };
    };
    const stats = await clock.run(
      runOpenLoop({ rate: 100, durationMs: 1000, maxOutstanding: 10, send: hung, clock }),
    );
    expect(stats.completed).toBe(10);
    expect(stats.dropped).toBe(90);
    expect(stats.latency.percentile(0)).toBeCloseTo(4910, 0);
  });
});

describe('closed loop', () => {
  it('keeps `concurrency` requests in flight for the duration', async () => {
    const clock = new VirtualClock();
    const parallel: Send = async () => {
      await clock.sleepUntil(clock.now() + 1);
      return { ok: true };
    };
    const stats = await clock.run(runClosedLoop({ concurrency: 4, durationMs: 100, send: parallel, clock }));
    expect(stats.completed).toBe(400);
    expect(stats.elapsedMs).toBe(100);
    expect(stats.latency.percentile(99)).toBe(1);
  });

  it('counts failures and keeps a few distinct messages', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const flaky: Send = async () => {
      await clock.sleepUntil(clock.now() + 1);
      n += 1;
      if (n % 2 === 0) throw new Error(`boom ${n % 3}`);
      return { ok: true };
    };
    const stats = await clock.run(runClosedLoop({ concurrency: 1, durationMs: 20, send: flaky, clock }));
    expect(stats.errors).toBe(10);
    expect(stats.completed).toBe(10);
    expect([...stats.errorSamples].sort()).toEqual(['boom 0', 'boom 1', 'boom 2']);
  });
});

describe('httpSend', () => {
  let server: Server;
  let origin: string;
  // What `clock.now()` reads: the server moves it to 2 right before it writes the first content.
  let phase = 1;
  const phaseClock: LoadClock = { now: () => phase, sleepUntil: async () => {} };
  let lastModelsRequest = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/no-done') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n');
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n');
        setTimeout(() => {
          phase = 2;
          res.end('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
        }, 30);
      } else if (req.url === '/models') {
        // Notes what it received, so the test sees the method and that no body came.
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        req.on('end', () => {
          lastModelsRequest = `${req.method} ${bytes}`;
          res.writeHead(200).end('{"data":[]}');
        });
      } else {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"slow down"}}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (path: string, stream: boolean) =>
    httpSend(createLoadPool(origin, 2), { origin, path, headers: {}, body: '{}', stream }, phaseClock)();

  it('times the first chunk with content, not an empty role chunk', async () => {
    expect(await send('/stream', true)).toEqual({ ok: true, firstContentAt: 2 });
  });

  it('fails a stream that ends without data: [DONE]', async () => {
    expect(await send('/no-done', true)).toEqual({ ok: false, error: 'stream ended without data: [DONE]' });
  });

  it('sends a GET without a body when the request says GET', async () => {
    const pool = createLoadPool(origin, 2);
    const request = {
      origin,
      path: '/models',
      method: 'GET' as const,
      headers: {},
      body: '{}',
      stream: false,
    };
    expect(await httpSend(pool, request, phaseClock)()).toEqual({ ok: true });
    expect(lastModelsRequest).toBe('GET 0');
  });

  it('fails a non-200 answer with its status and body', async () => {
    expect(await send('/other', false)).toEqual({
      ok: false,
      error: 'status 429: {"error":{"message":"slow down"}}',
    });
  });
});
