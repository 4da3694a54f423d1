import { z } from 'zod';

/** Log levels the gateway accepts (pino's). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The gateway's settings, validated once at startup and frozen. */
export interface GatewayConfig {
  /** TCP port to listen on; 0 picks a free one (default 8787, `SWITCHYARD_PORT`, `--port`). */
  readonly port: number;
  /** Interface to bind (default `127.0.0.1`, `SWITCHYARD_HOST`, `--host`). */
  readonly host: string;
  /** The policy folder (`SWITCHYARD_POLICY`, `--policy`); required to serve. */
  readonly policyDir: string;
  /** Where the SQLite file and the development key live (default `.switchyard`, `SWITCHYARD_STATE_DIR`, `--state-dir`). */
  readonly stateDir: string;
  /** Bearer token of the admin API; the admin API is off when unset (`SWITCHYARD_ADMIN_TOKEN`). */
  readonly adminToken: string | undefined;
  /** Largest request body in bytes (default 4 MiB, `SWITCHYARD_BODY_LIMIT`). */
  readonly bodyLimitBytes: number;
  /** How long SIGTERM waits for in-flight requests and streams (default 30000, `SWITCHYARD_SHUTDOWN_TIMEOUT_MS`). */
  readonly shutdownTimeoutMs: number;
  /** Interval of `: heartbeat` comments while a stream waits for its first token (default 15000, `SWITCHYARD_HEARTBEAT_MS`). */
  readonly heartbeatMs: number;
  /** pino log level (default `info`, `SWITCHYARD_LOG_LEVEL`). */
  readonly logLevel: (typeof logLevels)[number];
  /** Reload the policy when its files change (default false, `SWITCHYARD_WATCH=1`, `--watch`). */
  readonly watch: boolean;
  /**
   * Redis for rate-limit buckets, quota counters and breakers shared by replicas
   * (`SWITCHYARD_REDIS_URL`, `redis://` or `rediss://`); unset keeps them in process memory.
   */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key; one per fleet sharing a Redis (default `sy:`, `SWITCHYARD_REDIS_PREFIX`). */
  readonly redisPrefix: string;
  /**
   * PostgreSQL for API keys and the usage ledger (`SWITCHYARD_DATABASE_URL`, `postgres://`); unset
   * keeps them in the SQLite file under the state directory.
   */
  readonly databaseUrl: string | undefined;
  /** Schema the Postgres tables live in (default: the server's `search_path`, `SWITCHYARD_DATABASE_SCHEMA`). */
  readonly databaseSchema: string | undefined;
  /**
   * Most bytes of cached answers held in process memory when there is no Redis (default 64 MiB,
   * `SWITCHYARD_CACHE_MAX_BYTES`; 0 stores nothing). With `SWITCHYARD_REDIS_URL` the response cache
   * lives in Redis, bounded by its `maxmemory` policy.
   */
  readonly cacheMaxBytes: number;
}

/** Settings given as command-line flags; each wins over its environment variable. */
export interface ConfigFlags {
  port?: string | undefined;
  host?: string | undefined;
  policy?: string | undefined;
  stateDir?: string | undefined;
  watch?: boolean | undefined;
}

/** A configuration value that cannot be used; the message names the variable or flag. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: `expected an integer from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `expected at least ${min}` })
        .max(max, { error: `expected at most ${max}` }),
    );

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.enum(['1', '0', 'true', 'false', 'yes', 'no', ''], { error: 'expected 1, 0, true, false, yes or no' }),
  )
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

/** Each setting: where it comes from (flag, variable), its default and how it is checked. */
const settings = {
  port: { variable: 'SWITCHYARD_PORT', flag: '--port', fallback: '8787', schema: integer(0, 65_535) },
  host: {
    variable: 'SWITCHYARD_HOST',
    flag: '--host',
    fallback: '127.0.0.1',
    schema: z.string().trim().min(1),
  },
  policyDir: {
    variable: 'SWITCHYARD_POLICY',
    flag: '--policy',
    fallback: undefined,
    schema: z.string().trim().min(1, { error: 'expected a policy folder' }),
  },
  stateDir: {
    variable: 'SWITCHYARD_STATE_DIR',
    flag: '--state-dir',
    fallback: '.switchyard',
    schema: z.string().trim().min(1),
  },
  adminToken: {
    variable: 'SWITCHYARD_ADMIN_TOKEN',
    flag: undefined,
    fallback: '',
    schema: z
      .string()
      .refine((v) => v === '' || v.length >= 16, { error: 'expected at least 16 characters' })
      .transform((v) => (v === '' ? undefined : v)),
  },
  bodyLimitBytes: {
    variable: 'SWITCHYARD_BODY_LIMIT',
    flag: undefined,
    fallback: String(4 * 1024 * 1024),
    schema: integer(1024, 1024 ** 3),
  },
  shutdownTimeoutMs: {
    variable: 'SWITCHYARD_SHUTDOWN_TIMEOUT_MS',
    flag: undefined,
    fallback: '30000',
    schema: integer(0, 3_600_000),
  },
  heartbeatMs: {
    variable: 'SWITCHYARD_HEARTBEAT_MS',
    flag: undefined,
    fallback: '15000',
    schema: integer(10, 600_000),
  },
  logLevel: {
    variable: 'SWITCHYARD_LOG_LEVEL',
    flag: undefined,
    fallback: 'info',
    schema: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` })),
  },
  watch: { variable: 'SWITCHYARD_WATCH', flag: '--watch', fallback: '0', schema: boolean },
  redisUrl: {
    variable: 'SWITCHYARD_REDIS_URL',
    flag: undefined,
    fallback: '',
    schema: optionalUrl(['redis:', 'rediss:'], 'a redis url such as `redis://127.0.0.1:6379`'),
  },
  redisPrefix: {
    variable: 'SWITCHYARD_REDIS_PREFIX',
    flag: undefined,
    fallback: 'sy:',
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, { error: 'expected 1 to 64 letters, digits or `:_.-`' }),
  },
  databaseUrl: {
    variable: 'SWITCHYARD_DATABASE_URL',
    flag: undefined,
    fallback: '',
    schema: optionalUrl(
      ['postgres:', 'postgresql:'],
      'a postgres url such as `postgres://user@127.0.0.1:5432/switchyard`',
    ),
  },
  databaseSchema: {
    variable: 'SWITCHYARD_DATABASE_SCHEMA',
    flag: undefined,
    fallback: '',
    schema: z
      .string()
      .trim()
      .refine((v) => v === '' || /^[a-z_][a-z0-9_]{0,62}$/.test(v), {
        error: 'expected a lowercase sql identifier',
      })
      .transform((v) => (v === '' ? undefined : v)),
  },
  cacheMaxBytes: {
    variable: 'SWITCHYARD_CACHE_MAX_BYTES',
    flag: undefined,
    fallback: String(64 * 1024 * 1024),
    schema: integer(0, 1024 ** 4),
  },
} as const;

/** An optional URL with one of `protocols`; empty means unset. */
function optionalUrl(protocols: readonly string[], expected: string) {
  return z
    .string()
    .trim()
    .refine(
      (v) => {
        if (v === '') return true;
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `expected ${expected}` },
    )
    .transform((v) => (v === '' ? undefined : v));
}

/** Settings whose values are secrets or may hold one (credentials in a URL): never echoed. */
const hiddenSettings: ReadonlySet<string> = new Set(['adminToken', 'redisUrl', 'databaseUrl']);

/**
 * Reads the configuration from flags and environment variables (flags win), checks every value and
 * returns a frozen object. Throws a `ConfigError` naming the first bad variable or flag.
 */
export function loadConfig(
  flags: ConfigFlags = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  const given: Record<keyof typeof settings, string | undefined> = {
    port: flags.port,
    host: flags.host,
    policyDir: flags.policy,
    stateDir: flags.stateDir,
    adminToken: undefined,
    bodyLimitBytes: undefined,
    shutdownTimeoutMs: undefined,
    heartbeatMs: undefined,
    logLevel: undefined,
    watch: flags.watch ? 'true' : undefined,
    redisUrl: undefined,
    redisPrefix: undefined,
    databaseUrl: undefined,
    databaseSchema: undefined,
    cacheMaxBytes: undefined,
  };
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(settings) as [
    keyof typeof settings,
    (typeof settings)[keyof typeof settings],
  ][]) {
    const fromFlag = given[key];
    const raw = fromFlag ?? env[setting.variable] ?? setting.fallback;
    const source = fromFlag !== undefined && setting.flag ? setting.flag : setting.variable;
    if (raw === undefined) {
      throw new ConfigError(
        `missing \`${source}\`: ${key === 'policyDir' ? 'name the policy folder with `--policy <dir>` or `SWITCHYARD_POLICY`' : 'a value is required'}`,
      );
    }
    const parsed = setting.schema.safeParse(raw);
    if (!parsed.success) {
      const shown = hiddenSettings.has(key) ? '(hidden)' : `\`${raw}\``;
      throw new ConfigError(
        `invalid \`${source}\`: ${parsed.error.issues[0]?.message ?? 'invalid value'}, got ${shown}`,
      );
    }
    out[key] = parsed.data;
  }
  return Object.freeze(out as unknown as GatewayConfig);
}
