import { parseArgs } from 'node:util';
import { parseDuration } from '@switchyard/engine';
import { issueApiKey, viewApiKey } from '../stores/api-key.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqliteKeyStore } from '../stores/sqlite/sqlite-key-store.ts';
import { type CliCommand, UsageError } from './cli-command.ts';

const usage = `usage:
  switchyard keys create --tenant <name> [--models a,b] [--expires 30d] [--name <text>] [--json]
  switchyard keys list [--tenant <name>] [--json]
  switchyard keys revoke <key id>

Works on the SQLite state database directly, with or without a running server (a running server
sees a revoked key within a few seconds).

options:
  --tenant <name>     tenant the key belongs to (create: required; list: filter)
  --models <a,b>      logical models the key may use (default: whatever its tenant may use)
  --expires <dur>     lifetime such as 12h, 30d (default: never expires)
  --name <text>       what the key is for (default: empty)
  --state-dir <dir>   state directory (env SWITCHYARD_STATE_DIR, default .switchyard)
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
        name: { type: 'string' },
        'state-dir': { type: 'string' },
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
  const db = openStateDatabase(stateDir);
  const keys = new SqliteKeyStore(db);
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
      const models = values.models
        ?.split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      const { key, record } = await issueApiKey(
        keys,
        { tenant: values.tenant, name: values.name, allowedModels: models, expiresAt },
        Date.now(),
      );
      if (values.json) print(JSON.stringify({ key, ...viewApiKey(record) }));
      else {
        print(
          `created ${record.id} for tenant ${record.tenant}${models?.length ? ` (models: ${models.join(', ')})` : ''}`,
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
    db.close();
  }
}
