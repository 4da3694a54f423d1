import { describe, expect, it } from 'vitest';
import { type OverheadBenchReport, runOverheadBench } from './overhead-bench.ts';
import { overheadScenarios } from './overhead-scenarios.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A smoke run of the real harness (processes, IPC, load loops, report) against the fake upstream
// and the passthrough only, a few seconds long; it checks sanity, never speed.
describe('overhead bench harness', () => {
  let report: OverheadBenchReport;

  it('measures the fake upstream and the passthrough, then stops every process it started', async () => {
    report = await runOverheadBench({
      targets: ['direct', 'passthrough'],
      scenarios: overheadScenarios.filter((s) =>
        ['chat-c32', 'chat-open-300', 'stream-c64', 'embed-c32'].includes(s.name),
      ),
      timing: { rounds: 1, initialWarmupMs: 150, warmupMs: 100, shortMs: 300, longMs: 300 },
      pin: false,
    });
    expect(report.meta.targets).toEqual(['direct', 'passthrough']);
    expect(report.scenarios.map((s) => s.name)).toEqual([
      'chat-c32',
      'chat-open-300',
      'stream-c64',
      'embed-c32',
    ]);
    for (const { pids } of Object.values(report.meta.gatewayProcesses))
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
  }, 30_000);

  it('produces sane numbers for every scenario and target: requests, no errors, p99 ≥ p50', () => {
    for (const scenario of report.scenarios) {
      for (const target of ['direct', 'passthrough'] as const) {
        const cell = scenario.cells[target];
        expect(cell, `${scenario.name}/${target}`).toBeDefined();
        expect(cell!.requests, `${scenario.name}/${target} requests`).toBeGreaterThan(0);
        expect(cell!.errors, `${scenario.name}/${target} errors: ${cell!.errorSamples.join(' | ')}`).toBe(0);
        expect(cell!.dropped).toBe(0);
        expect(cell!.latencyMs.p99).toBeGreaterThanOrEqual(cell!.latencyMs.p50);
        expect(cell!.latencyMs.p50).toBeGreaterThan(0);
      }
      expect(scenario.cells.passthrough!.cpuSecondsPer1k).toBeGreaterThanOrEqual(0);
      expect(scenario.cells.passthrough!.peakRssMb).toBeGreaterThan(0);
      expect(scenario.cells.direct!.cpuSecondsPer1k).toBeUndefined();
    }
  });

  it('times first content of streams, no later than the whole stream', () => {
    const stream = report.scenarios.find((s) => s.name === 'stream-c64')!;
    for (const cell of [stream.cells.direct!, stream.cells.passthrough!]) {
      expect(cell.ttftMs!.p50).toBeGreaterThan(0);
      expect(cell.ttftMs!.p50).toBeLessThanOrEqual(cell.latencyMs.p50);
    }
  });

  it('compares the passthrough with direct and leaves the Switchyard targets unmeasured', () => {
    expect(report.derived.comparisons['chat-c32']?.passthrough?.addedP50Ms).toBeTypeOf('number');
    expect(report.derived.comparisons['chat-c32']?.passthrough?.throughputVsDirect).toBeGreaterThan(0);
    expect(report.derived.checks.every((c) => c.met === undefined)).toBe(true);
    expect(report.text).toContain('stream-c64: streaming chat');
  });
});
