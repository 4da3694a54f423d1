import type { LedgerAggregate, LedgerDimension } from './ledger-store.ts';

/**
 * Usage aggregates as aligned text columns: bucket start, the group's dimensions, then requests,
 * errors, denied, tokens in and out, cost and latency percentiles. A header line first.
 */
export function formatUsageTable(
  rows: readonly LedgerAggregate[],
  dimensions: readonly LedgerDimension[],
): string[] {
  const header = [
    'bucket',
    ...dimensions,
    'requests',
    'errors',
    'denied',
    'in_tokens',
    'out_tokens',
    'cost_usd',
    'p50_ms',
    'p95_ms',
  ];
  const body = rows.map((r) => [
    new Date(r.bucketStartMs).toISOString().replace('.000Z', 'Z'),
    ...dimensions.map((d) => r.group[d] ?? '-'),
    String(r.requests),
    String(r.errors),
    String(r.denied),
    String(r.inputTokens),
    String(r.outputTokens),
    r.costUsd.toFixed(6),
    r.latencyP50Ms === null ? '-' : String(Math.round(r.latencyP50Ms)),
    r.latencyP95Ms === null ? '-' : String(Math.round(r.latencyP95Ms)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
