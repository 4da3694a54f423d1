import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRow } from '../stores/ledger-store.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqliteLedgerStore } from '../stores/sqlite/sqlite-ledger-store.ts';
import { runUsage } from './usage.command.ts';

const dir = mkdtempSync(join(tmpdir(), 'sy-usage-'));
const hour = 3_600_000;
const base = Math.floor(Date.now() / hour) * hour - 2 * hour;

function row(
  n: number,
  tenant: string,
  model: string,
  at: number,
  extra: Partial<LedgerRow> = {},
): LedgerRow {
  return {
    time: at,
    requestId: `req_${n}`,
    tenant,
    keyId: `key_${tenant}`,
    routeId: 'auto',
    logicalModel: model,
    deployment: `${model}/a`,
    policyVersion: 'default@abc',
    inputTokens: 10,
    outputTokens: 5,
    cachedTokens: 0,
    costUsd: 0.25,
    estimated: false,
    latencyMs: 100 + n,
    status: 200,
    outcome: 'ok',
    retries: 0,
    escalations: 0,
    cacheStatus: 'bypass',
    ...extra,
  };
}

beforeAll(async () => {
  const db = openStateDatabase(dir);
  await new SqliteLedgerStore(db).append([
    row(1, 'search', 'fast', base + 60_000),
    row(2, 'search', 'fast', base + 120_000),
    row(3, 'search', 'strong', base + hour + 60_000),
    row(4, 'ads', 'fast', base + hour + 120_000, {
      outcome: 'denied',
      status: 429,
      costUsd: 0,
      inputTokens: 0,
    }),
  ]);
  db.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  await runUsage([...args, '--state-dir', dir], (line) => lines.push(line), {});
  return lines;
}

describe('switchyard usage', () => {
  it('prints ledger aggregates as JSON, grouped and bucketed', async () => {
    const [line] = await run(
      '--group-by',
      'tenant,model',
      '--bucket',
      '1h',
      '--from',
      '3h',
      '--format',
      'json',
    );
    const out = JSON.parse(line!) as {
      data: {
        bucketStart: string;
        group: Record<string, string>;
        requests: number;
        costUsd: number;
        denied: number;
      }[];
    };
    expect(
      out.data.map((d) => [d.bucketStart, d.group.tenant, d.group.model, d.requests, d.costUsd, d.denied]),
    ).toEqual([
      [new Date(base).toISOString(), 'search', 'fast', 2, 0.5, 0],
      [new Date(base + hour).toISOString(), 'ads', 'fast', 1, 0, 1],
      [new Date(base + hour).toISOString(), 'search', 'strong', 1, 0.25, 0],
    ]);
  });

  it('prints an aligned table, filtered by tenant', async () => {
    const lines = await run('--group-by', 'model', '--tenant', 'search', '--from', '3h');
    expect(lines[0]).toMatch(
      /^bucket\s+model\s+requests\s+errors\s+denied\s+in_tokens\s+out_tokens\s+cost_usd/,
    );
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(1, 3))).toEqual([
      ['fast', '2'],
      ['strong', '1'],
    ]);
  });

  it('names the flag that is wrong', async () => {
    await expect(run('--group-by', 'colour')).rejects.toThrow(
      /^invalid `--group-by`: expected dimensions among/,
    );
    await expect(run('--from', 'last tuesday')).rejects.toThrow(/^invalid `--from`: expected an ISO 8601/);
    await expect(run('--format', 'xml')).rejects.toThrow(
      'invalid `--format`: expected table or json, got `xml`',
    );
  });
});
