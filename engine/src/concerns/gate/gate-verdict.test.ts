import { describe, expect, it } from 'vitest';
import {
  type GateTestOutcome,
  type GateThresholds,
  judgeGate,
  nearestRankPercentile,
} from './gate-verdict.ts';

const thresholds: GateThresholds = {
  minPassRate: 0.9,
  maxPassRateDrop: 0.05,
  maxCostRatio: 1.1,
  maxP95LatencyRatio: 1.25,
};

const test = (id: string, passed: boolean, costUsd = 0.001, latencyMs = 100): GateTestOutcome => ({
  id,
  passed,
  costUsd,
  latencyMs,
});

const tenTests = (failing: string[] = [], cost = 0.001, latency = 100) =>
  Array.from({ length: 10 }, (_, i) => test(`t${i}`, !failing.includes(`t${i}`), cost, latency));

function verdict(candidate: GateTestOutcome[], baseline = tenTests(), t = thresholds) {
  return judgeGate({
    candidate: { label: 'p@cand', runs: [{ suite: 'regression', tests: candidate }] },
    baseline: { label: 'p@base', runs: [{ suite: 'regression', tests: baseline }] },
    thresholds: t,
  });
}

describe('the gate verdict', () => {
  it('passes a candidate that does as well, at the same cost and latency', () => {
    const v = verdict(tenTests());
    expect(v.pass).toBe(true);
    expect(v.summary).toBe('passed 1 suite(s): regression 10/10');
    expect(v.suites[0]?.changes).toEqual([]);
  });

  it('fails a candidate below the minimum pass rate and lists what regressed', () => {
    const v = verdict(tenTests(['t7', 't8']));
    expect(v.pass).toBe(false);
    expect(v.suites[0]?.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual([
      'minPassRate',
      'maxPassRateDrop',
    ]);
    expect(v.suites[0]?.changes.map((c) => [c.id, c.change])).toEqual([
      ['t7', 'regressed'],
      ['t8', 'regressed'],
    ]);
    expect(v.summary).toBe(
      'failed: regression: pass rate 0.800 < 0.9; regression: pass rate drop 0.200 > 0.05',
    );
  });

  it('fails on a drop against the baseline even above the minimum pass rate', () => {
    const v = verdict(tenTests(['t1']), tenTests(), { ...thresholds, maxPassRateDrop: 0.02 });
    expect(v.suites[0]?.checks.find((c) => !c.pass)?.name).toBe('maxPassRateDrop');
  });

  it('reports tests the candidate fixed', () => {
    const v = verdict(tenTests(), tenTests(['t3']));
    expect(v.pass).toBe(true);
    expect(v.suites[0]?.changes.map((c) => [c.id, c.change])).toEqual([['t3', 'fixed']]);
  });

  it('fails a candidate that costs more per request than allowed, and passes one that costs less', () => {
    expect(
      verdict(tenTests([], 0.0012)).suites[0]?.checks.find((c) => c.name === 'maxCostRatio'),
    ).toMatchObject({
      pass: false,
      detail: 'cost per request ×1.200 > ×1.1',
    });
    expect(verdict(tenTests([], 0.0005)).pass).toBe(true);
  });

  it('fails a slower candidate, but ignores p95 differences within the noise tolerance', () => {
    expect(verdict(tenTests([], 0.001, 250)).pass).toBe(false);
    const fast = verdict(tenTests([], 0.001, 90), tenTests([], 0.001, 40));
    expect(fast.pass).toBe(true);
    expect(fast.suites[0]?.checks.find((c) => c.name === 'maxP95LatencyRatio')?.detail).toBe(
      'p95 latency ×2.250 > ×1.25 (within 100 ms tolerance)',
    );
    const tight = verdict(tenTests([], 0.001, 90), tenTests([], 0.001, 40), {
      ...thresholds,
      latencyToleranceMs: 10,
    });
    expect(tight.pass).toBe(false);
  });

  it('does not pass when no suite ran', () => {
    const v = judgeGate({
      candidate: { label: 'c', runs: [] },
      baseline: { label: 'b', runs: [] },
      thresholds,
    });
    expect(v).toMatchObject({ pass: false, summary: 'no suite ran' });
  });

  it('takes percentiles by nearest rank', () => {
    expect(nearestRankPercentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(nearestRankPercentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(nearestRankPercentile([], 0.95)).toBe(0);
  });
});
