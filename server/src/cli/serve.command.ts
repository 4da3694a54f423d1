import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import type { CliCommand } from './cli-command.ts';
import { UsageError } from './cli-command.ts';

const usage = `usage: switchyard serve --policy <dir> [options]

Runs the gateway: OpenAI-compatible /v1/chat/completions, /v1/embeddings, /v1/models, the Anthropic
/v1/messages, /healthz, /readyz and the admin API under /admin/v1 (when SWITCHYARD_ADMIN_TOKEN is set).

options:
  --policy <dir>      policy folder (or file) to serve          env SWITCHYARD_POLICY (required)
  --port <n>          port to listen on; 0 picks a free one     env SWITCHYARD_PORT (default 8787)
  --host <addr>       interface to bind                         env SWITCHYARD_HOST (default 127.0.0.1)
  --state-dir <dir>   SQLite state and the development key      env SWITCHYARD_STATE_DIR (default .switchyard)
  --watch             reload the policy when its files change   env SWITCHYARD_WATCH (default off)
  -h, --help          show this help

environment only:
  SWITCHYARD_ADMIN_TOKEN          bearer token of the admin API, 16+ characters (default: admin API off)
  SWITCHYARD_BODY_LIMIT           largest request body in bytes (default 4194304)
  SWITCHYARD_SHUTDOWN_TIMEOUT_MS  how long SIGTERM waits for in-flight requests (default 30000)
  SWITCHYARD_HEARTBEAT_MS         heartbeat interval while a stream waits for its first token (default 15000)
  SWITCHYARD_LOG_LEVEL            fatal|error|warn|info|debug|trace|silent (default info)
  SWITCHYARD_REDIS_URL            Redis for rate limits, quotas, breakers and caches shared by replicas (default: memory)
  SWITCHYARD_REDIS_PREFIX         prefix of the Redis keys, one per fleet (default sy:)
  SWITCHYARD_DATABASE_URL         Postgres for keys and the usage ledger (default: SQLite in the state dir)
  SWITCHYARD_DATABASE_SCHEMA      Postgres schema, created and migrated at startup (default: search_path)
  SWITCHYARD_CACHE_MAX_BYTES      bytes of cached answers kept in memory without Redis (default 67108864; 0: none)
  OTEL_EXPORTER_OTLP_ENDPOINT     OTLP/HTTP collector for traces, also the other OTEL_* variables (default: off)`;

/** `switchyard serve`: runs the gateway until SIGTERM/SIGINT, then drains and exits 0. */
export const serveCommand: CliCommand = {
  usage,
  async run(argv) {
    let values: ReturnType<typeof parse>['values'];
    try {
      values = parse(argv).values;
    } catch (err) {
      throw new UsageError(`${(err as Error).message}\n\n${usage}`);
    }
    const config = loadConfig({
      policy: values.policy,
      port: values.port,
      host: values.host,
      stateDir: values['state-dir'],
      watch: values.watch,
    });
    const { startServer } = await import('../server.ts');
    const server = await startServer(config);
    await server.closed;
    return 0;
  },
};

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      policy: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'state-dir': { type: 'string' },
      watch: { type: 'boolean' },
    },
  });
}
