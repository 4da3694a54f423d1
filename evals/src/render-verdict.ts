import type { GateArmSummary, GateSuiteVerdict, GateVerdict } from '@switchyard/engine';

const pct = (x: number) => `${(x * 100).toFixed(1).replace(/\.0$/, '')} %`;
const usd = (x: number) => `$${x.toFixed(6)}`;
const ms = (x: number) => `${Math.round(x)} ms`;
/** Table cells may not hold a pipe or a line break. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

function passRate(a: GateArmSummary): string {
  return `${a.passed}/${a.tests} (${pct(a.passRate)})`;
}

function ratio(candidate: number, baseline: number): string {
  return baseline > 0 ? ` (×${(candidate / baseline).toFixed(2)})` : '';
}

function suiteRow(s: GateSuiteVerdict): string {
  const b = s.baseline;
  const c = s.candidate;
  return `| ${s.suite} | ${passRate(b)} → ${passRate(c)} | ${usd(b.costPerRequestUsd)} → ${usd(c.costPerRequestUsd)}${ratio(c.costPerRequestUsd, b.costPerRequestUsd)} | ${ms(b.latencyP50Ms)} / ${ms(b.latencyP95Ms)} → ${ms(c.latencyP50Ms)} / ${ms(c.latencyP95Ms)} | ${s.pass ? '✅ pass' : '❌ fail'} |`;
}

const changeLabel = {
  regressed: '🔴 passed → failed',
  fixed: '🟢 failed → passed',
  added: '➕ new',
  removed: '➖ gone',
};

function suiteDetails(s: GateSuiteVerdict): string[] {
  const out = [`### ${s.pass ? '✅' : '❌'} ${s.suite}`, ''];
  for (const c of s.checks) out.push(`- ${c.pass ? '✅' : '❌'} ${c.detail}`);
  out.push('');
  if (s.changes.length === 0) {
    out.push('No test changed outcome.', '');
    return out;
  }
  out.push('| test | change | candidate served by | why it fails now |', '|---|---|---|---|');
  for (const c of s.changes)
    out.push(
      `| \`${cell(c.id)}\` | ${changeLabel[c.change]} | ${cell(c.candidate?.servedBy ?? '—')} | ${cell(c.candidate?.passed === false ? (c.candidate.failure ?? '') : '')} |`,
    );
  out.push('');
  return out;
}

/**
 * The verdict as Markdown for a pull-request comment: a headline, one summary row per suite
 * (pass rate, cost per request and p50/p95 latency, baseline → candidate), then each suite's checks
 * and the tests whose outcome changed.
 */
export function renderVerdictMarkdown(verdict: GateVerdict): string {
  const t = verdict.thresholds;
  const out = [
    `## ${verdict.pass ? '✅ Eval gate passed' : '❌ Eval gate failed'}: \`${verdict.candidate}\` vs \`${verdict.baseline}\``,
    '',
    verdict.summary,
    '',
    '| suite | pass rate (baseline → candidate) | cost / request | latency p50 / p95 | result |',
    '|---|---|---|---|---|',
    ...verdict.suites.map(suiteRow),
    '',
    ...verdict.suites.flatMap(suiteDetails),
    `<sub>Thresholds (from the baseline's \`gate:\`): pass rate ≥ ${t.minPassRate}, drop ≤ ${t.maxPassRateDrop}, cost ×≤ ${t.maxCostRatio}, p95 latency ×≤ ${t.maxP95LatencyRatio} (differences under ${t.latencyToleranceMs ?? 100} ms ignored). Cost is token usage × the policy's prices at the deployment that answered.</sub>`,
  ];
  return `${out.join('\n')}\n`;
}

/** A few plain lines for a terminal. */
export function renderVerdictText(verdict: GateVerdict): string {
  const out = [
    `eval gate ${verdict.pass ? 'PASSED' : 'FAILED'}: ${verdict.candidate} vs ${verdict.baseline}`,
  ];
  for (const s of verdict.suites) {
    out.push(
      `  ${s.pass ? '✓' : '✗'} ${s.suite}: ${passRate(s.baseline)} → ${passRate(s.candidate)}, cost/request ${usd(s.baseline.costPerRequestUsd)} → ${usd(s.candidate.costPerRequestUsd)}, p95 ${ms(s.baseline.latencyP95Ms)} → ${ms(s.candidate.latencyP95Ms)}`,
    );
    for (const c of s.checks.filter((x) => !x.pass)) out.push(`      ✗ ${c.detail}`);
    for (const c of s.changes)
      out.push(
        `      ${c.change.padEnd(9)} ${c.id}${c.candidate?.failure ? `: ${c.candidate.failure}` : ''}`,
      );
  }
  return `${out.join('\n')}\n`;
}
