import { parseArgs } from 'node:util';
import { parseDuration } from '@switchyard/engine';
import { openDurableStores } from '../state/open-durable-stores.ts';
import { issueApiKey, viewApiKey } from '../stores/api-key.ts';
import { formatKeyCap, keyCapsSchema, parseKeyCap } from '../stores/key-cap.ts';
import type { KeyCap } from '../stores/key-store.ts';
import { type CliCommand, UsageError } from './cli-command.ts';

const usage = `usage:
  switchyard keys create --tenant <name> [--models a,b] [--expires 30d] [--cap usd=5/day]… [--name <text>] [--json]
  switchyard keys list [--tenant <name>] [--json]
  switchyard keys revoke <key id>

Works on the state database directly (SQLite in the state directory, or Postgres when
SWITCHYARD_DATABASE_URL or --database-url is set), with or without a running server (a running
server sees a revoked key within a few seconds).

options:
  --tenant <name>     tenant the key belongs to (create: required; list: filter)
  --models <a,b>      logical models the key may use (default: whatever its tenant may use)
  --expires <dur>     lifetime such as 12h, 30d (default: never expires)
  --cap <u=n/window>  a cap on the key, repeatable: usd=5/day, tokens=200000/hour, requests=100/minute
                      (windows: minute, hour, day, month; default: only the tenant's quotas apply)
  --name <text>       what the key is for (default: empty)
  --state-dir <dir>   state directory (env SWITCHYARD_STATE_DIR, default .switchyard)
  --database-url <u>  Postgres instead (env SWITCHYARD_DATABASE_URL; schema: SWITCHYARD_DATABASE_SCHEMA)
  --json              print JSON instead of text
  -h, --help          show this help`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        tenant: { type: 'string' },
        models: { type: 'string' },
        expires: { type: 'string' },
        cap: { type: 'string', multiple: true },
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        'database-url': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** `switchyard keys`: create (prints the key once), list and revoke API keys. */
export const keysCommand: CliCommand = {
  usage,
  run: (argv) => runKeys(argv, (text) => process.stdout.write(`${text}\n`)),
};

/** Runs `switchyard keys …`, printing through `print`; resolves to the exit code, throws `UsageError`s. */
export async function runKeys(argv: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parse(argv);
  const [action, ...rest] = positionals;
  const stateDir = values['state-dir'] ?? process.env.SWITCHYARD_STATE_DIR ?? '.switchyard';
  if (action !== 'create' && action !== 'list' && action !== 'revoke') {
    throw new UsageError(
      `${action ? `unknown action \`${action}\`` : 'missing action'}; expected create, list or revoke\n\n${usage}`,
    );
  }
  const stores = await openDurableStores({
    stateDir,
    databaseUrl: values['database-url'] ?? process.env.SWITCHYARD_DATABASE_URL,
    databaseSchema: process.env.SWITCHYARD_DATABASE_SCHEMA || undefined,
    maxConnections: 1,
  });
  const keys = stores.keys;
  try {
    if (action === 'create') {
      if (!values.tenant) throw new UsageError('`keys create` needs `--tenant <name>`');
      let expiresAt: number | undefined;
      if (values.expires !== undefined) {
        const ms = parseDuration(values.expires);
        if (!ms)
          throw new UsageError(
            `invalid \`--expires\`: expected a duration like \`30d\` or \`12h\`, got \`${values.expires}\``,
          );
        expiresAt = Date.now() + ms;
      }
      let caps: KeyCap[] | undefined;
      if (values.cap !== undefined) {
        try {
          caps = keyCapsSchema.parse(values.cap.map(parseKeyCap));
        } catch (err) {
          const message =
            (err as { issues?: { message: string }[] }).issues?.[0]?.message ?? (err as Error).message;
          throw new UsageError(`invalid \`--cap\`: ${message}`);
        }
      }
      const models = values.models
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      const { key, record } = await issueApiKey(
        keys,
        { tenant: values.tenant, name: values.name, allowedModels: models, expiresAt, caps },
        Date.now(),
      );
      if (values.json) print(JSON.stringify({ key, ...viewApiKey(record) }));
      else {
        print(
          `created ${record.id} for tenant ${record.tenant}${models?.length ? ` (models: ${models.join(', ')})` : ''}${caps?.length ? ` (caps: ${caps.map(formatKeyCap).join(', ')})` : ''}`,
        );
        print(`key: ${key}`);
        print('this is the only time the key is shown; store it now.');
      }
      return 0;
    }
    if (action === 'list') {
      const list = (await keys.list({ tenant: values.tenant })).map(viewApiKey);
      if (values.json) print(JSON.stringify(list));
      else if (list.length === 0) print('no keys');
      else {
        for (const k of list) {
          const state = k.disabled
            ? 'revoked'
            : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
              ? 'expired'
              : 'active';
          print(
            [
              k.id,
              k.tenant,
              `${k.prefix}…`,
              state,
              k.allowedModels?.join(',') ?? '*',
              k.expiresAt ?? 'never',
              k.caps?.map(formatKeyCap).join(',') ?? '-',
              k.name,
            ]
              .join('\t')
              .trimEnd(),
          );
        }
      }
      return 0;
    }
    const id = rest[0];
    if (!id) throw new UsageError('`keys revoke` needs a key id (see `switchyard keys list`)');
    if (!(await keys.disable(id))) throw new UsageError(`no api key with id \`${id}\``);
    print(`revoked ${id}`);
    return 0;
  } finally {
    await keys.close();
    await stores.close();
  }
}
