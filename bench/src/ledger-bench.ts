import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LedgerRow, newRequestId, openStateDatabase, SqliteLedgerStore } from '@switchyard/server';
import { isMainModule } from './is-main-module.ts';

/**
 * What one usage-ledger row costs to write into the embedded SQLite store as the table grows, keyed
 * by the gateway's time-ordered ids (`newRequestId`, what every row key is) against fully random
 * keys (UUID-like ids, as clients send in `x-request-id`). The writer appends in batches of 500 off
 * the request path, but on the same event loop: a row's insert time is CPU every request pays.
 */

/** The µs per row of each checkpoint, for one id scheme. */
export interface LedgerBenchSeries {
  ids: 'time-ordered' | 'random';
  /** Rows in the table after each checkpoint, and the µs per row of the rows written since the last. */
  checkpoints: { rows: number; usPerRow: number }[];
}

/** A ledger row like the gateway writes for a cache hit; only the id varies. */
function benchRow(requestId: string, time: number): LedgerRow {
  return {
    requestId,
    time,
    tenant: 'default',
    keyId: 'key_bench0000',
    routeId: 'default',
    logicalModel: 'fast',
    deployment: 'bench',
    policyVersion: 'overhead-bench@0123456789ab',
    inputTokens: 24,
    outputTokens: 20,
    cachedTokens: 0,
    costUsd: 0.000_12,
    estimated: false,
    latencyMs: 1.25,
    status: 200,
    outcome: 'ok',
    retries: 0,
    escalations: 0,
    cacheStatus: 'hit',
    savedCostUsd: 0.000_12,
  };
}

/** Appends `checkpoints × rowsPerCheckpoint` rows in batches of 500 to a fresh database file. */
export async function runLedgerSeries(
  ids: LedgerBenchSeries['ids'],
  options: { checkpoints: number; rowsPerCheckpoint: number },
): Promise<LedgerBenchSeries> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-ledger-bench-'));
  const db = openStateDatabase(join(dir, 'state.db'));
  const store = new SqliteLedgerStore(db);
  const batchRows = 500;
  let clock = Date.UTC(2026, 10, 27);
  const nextId = () => (ids === 'time-ordered' ? newRequestId(clock) : randomUUID());
  const series: LedgerBenchSeries = { ids, checkpoints: [] };
  try {
    for (let c = 0; c < options.checkpoints; c++) {
      const started = performance.now();
      for (let written = 0; written < options.rowsPerCheckpoint; written += batchRows) {
        const rows: LedgerRow[] = [];
        for (let i = 0; i < Math.min(batchRows, options.rowsPerCheckpoint - written); i++) {
          clock += 0.25;
          rows.push(benchRow(nextId(), Math.floor(clock)));
        }
        await store.append(rows);
      }
      const ms = performance.now() - started;
      series.checkpoints.push({
        rows: (c + 1) * options.rowsPerCheckpoint,
        usPerRow: (ms * 1000) / options.rowsPerCheckpoint,
      });
    }
    return series;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs both id schemes and prints µs per row at each checkpoint and their ratio. */
export async function runLedgerBench(options: { checkpoints: number; rowsPerCheckpoint: number }) {
  const ordered = await runLedgerSeries('time-ordered', options);
  const random = await runLedgerSeries('random', options);
  const lines = [
    `usage ledger inserts, embedded SQLite (WAL, synchronous=normal), batches of 500 · µs per row`,
    '',
    `${'rows in table'.padEnd(15)}${'time-ordered'.padStart(14)}${'random'.padStart(10)}${'random / ordered'.padStart(18)}`,
  ];
  ordered.checkpoints.forEach((o, i) => {
    const r = random.checkpoints[i]!;
    lines.push(
      `${String(o.rows).padEnd(15)}${o.usPerRow.toFixed(2).padStart(14)}${r.usPerRow.toFixed(2).padStart(10)}${`${(r.usPerRow / o.usPerRow).toFixed(2)}×`.padStart(18)}`,
    );
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return { ordered, random };
}

if (isMainModule(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  await runLedgerBench(
    quick ? { checkpoints: 2, rowsPerCheckpoint: 20_000 } : { checkpoints: 8, rowsPerCheckpoint: 50_000 },
  );
}
