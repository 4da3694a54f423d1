import { describe, expect, it } from 'vitest';
import { runLedgerSeries } from './ledger-bench.ts';

describe('ledger bench', () => {
  it('writes every row of each checkpoint and reports a time per row for each', async () => {
    const series = await runLedgerSeries('time-ordered', { checkpoints: 2, rowsPerCheckpoint: 1_200 });
    expect(series.checkpoints.map((c) => c.rows)).toEqual([1_200, 2_400]);
    for (const c of series.checkpoints) expect(c.usPerRow).toBeGreaterThan(0);
  });
});
