import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';

function filled(samplesMs: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const ms of samplesMs) h.record(ms);
  return h;
}

describe('LatencyHistogram', () => {
  it('reports exact percentiles below 0.256 ms, where every microsecond has its own bucket', () => {
    const h = filled(Array.from({ length: 100 }, (_, i) => (i + 1) / 1000));
    expect(h.percentile(50)).toBe(0.05);
    expect(h.percentile(99)).toBe(0.099);
    expect(h.percentile(100)).toBe(0.1);
    expect(h.percentile(0)).toBe(0.001);
  });

  it('keeps percentiles of a uniform 0.1 ms – 10 s spread within 0.5% of the true value', () => {
    const samples = Array.from({ length: 100_000 }, (_, i) => ((i + 1) * 10_000) / 100_000);
    const h = filled(samples);
    for (const p of [1, 25, 50, 90, 95, 99, 99.9]) {
      const exact = samples[Math.ceil((p / 100) * samples.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.005);
    }
    expect(h.percentile(100)).toBe(10_000);
    expect(h.count).toBe(100_000);
  });

  it('finds the tail of a bimodal distribution (99% fast, 1% slow)', () => {
    const h = filled([...Array<number>(990).fill(0.4), ...Array<number>(10).fill(50)]);
    expect(h.percentile(50)).toBeCloseTo(0.4, 2);
    expect(h.percentile(99)).toBeCloseTo(0.4, 2);
    expect(h.percentile(99.5)).toBeCloseTo(50, 0);
    expect(h.meanMs).toBeCloseTo(0.896, 3);
  });

  it('merges rounds into the histogram of all their samples', () => {
    const a = filled([1, 2, 3]);
    const b = filled([10, 20]);
    a.add(b);
    expect(a.count).toBe(5);
    expect(a.maxMs).toBe(20);
    expect(a.percentile(60)).toBeCloseTo(3, 1);
  });

  it('survives a round trip through its snapshot (the IPC form)', () => {
    const h = filled([0.2, 0.7, 3.5, 120, 4000]);
    const copy = LatencyHistogram.from(JSON.parse(JSON.stringify(h.snapshot())));
    for (const p of [0, 20, 50, 80, 100]) expect(copy.percentile(p)).toBe(h.percentile(p));
    expect(copy.meanMs).toBe(h.meanMs);
  });

  it('answers NaN for an empty histogram and clamps negative samples to 0', () => {
    expect(new LatencyHistogram().percentile(50)).toBeNaN();
    expect(filled([-3]).percentile(50)).toBe(0);
  });

  it('uses the same fixed memory however many samples it holds', () => {
    const h = new LatencyHistogram();
    const before = h.snapshot().buckets.length;
    for (let i = 0; i < 200_000; i++) h.record(0.5);
    expect(before).toBe(0);
    expect(h.snapshot().buckets).toHaveLength(1);
  });
});
