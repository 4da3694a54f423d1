import { parseArgs } from 'node:util';
import { openDurableStores } from '../state/open-durable-stores.ts';
import { formatUsageTable } from '../stores/format-usage-table.ts';
import { parseUsageQuery, UsageQueryError } from '../stores/ledger-usage-query.ts';
import { type CliCommand, UsageError } from './cli-command.ts';

const usage = `usage: switchyard usage [--group-by tenant,model] [--from <time>] [--to <time>] [--bucket 1h]
                        [--state-dir <dir> | --database-url <url>] [--format table|json]

Aggregates the usage ledger: requests, errors, tokens, cost and latency per group and time bucket.
Reads the SQLite state database, or Postgres when a database URL is given.

options:
  --group-by <dims>     tenant, key, route, model, deployment, policy, arm, outcome, cache (comma-separated)
  --from <time>         ISO date or date-time, epoch ms, or a duration ago such as 24h (default: 24h ago)
  --to <time>           same forms (default: now)
  --bucket <dur>        time bucket such as 1h, 15m, 1d (default: one bucket for the whole range)
  --tenant <name>       only this tenant
  --state-dir <dir>     state directory (env SWITCHYARD_STATE_DIR, default .switchyard)
  --database-url <url>  Postgres instead (env SWITCHYARD_DATABASE_URL)
  --database-schema <s> its schema (env SWITCHYARD_DATABASE_SCHEMA)
  --format <f>          table (default) or json
  -h, --help            show this help`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        'group-by': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        bucket: { type: 'string' },
        tenant: { type: 'string' },
        'state-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'database-schema': { type: 'string' },
        format: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** `switchyard usage`: ledger aggregates from the state directory or Postgres, as a table or JSON. */
export const usageCommand: CliCommand = {
  usage,
  run: (argv) => runUsage(argv, (text) => process.stdout.write(`${text}\n`)),
};

/** Runs `switchyard usage …`, printing through `print`; resolves to the exit code, throws `UsageError`s. */
export async function runUsage(
  argv: string[],
  print: (line: string) => void,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const { values } = parse(argv);
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json')
    throw new UsageError(`invalid \`--format\`: expected table or json, got \`${format}\``);
  let query: ReturnType<typeof parseUsageQuery>;
  try {
    query = parseUsageQuery(
      {
        groupBy: values['group-by'],
        from: values.from,
        to: values.to,
        bucket: values.bucket,
        where: values.tenant === undefined ? undefined : { tenant: values.tenant },
      },
      Date.now(),
    );
  } catch (err) {
    if (err instanceof UsageQueryError) {
      const flag =
        { groupBy: '--group-by', from: '--from', to: '--to', bucket: '--bucket' }[err.param] ??
        `--${err.param}`;
      throw new UsageError(`invalid \`${flag}\`: ${err.detail}`);
    }
    throw err;
  }
  const stores = await openDurableStores({
    stateDir: values['state-dir'] ?? env.SWITCHYARD_STATE_DIR ?? '.switchyard',
    databaseUrl: values['database-url'] ?? env.SWITCHYARD_DATABASE_URL,
    databaseSchema: values['database-schema'] ?? (env.SWITCHYARD_DATABASE_SCHEMA || undefined),
    maxConnections: 1,
  });
  let rows: Awaited<ReturnType<typeof stores.ledger.query>>;
  try {
    rows = await stores.ledger.query(query);
  } finally {
    await stores.close();
  }
  if (format === 'json') {
    print(
      JSON.stringify({
        from: new Date(query.fromMs).toISOString(),
        to: new Date(query.toMs).toISOString(),
        bucketMs: query.bucketMs ?? null,
        groupBy: query.groupBy,
        data: rows.map(({ bucketStartMs, ...rest }) => ({
          bucketStart: new Date(bucketStartMs).toISOString(),
          ...rest,
        })),
      }),
    );
  } else if (rows.length === 0) print('no usage in this range');
  else for (const line of formatUsageTable(rows, query.groupBy)) print(line);
  return 0;
}
