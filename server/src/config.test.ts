import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ policy: 'policies/default' }, {});
    expect(config).toEqual({
      port: 8787,
      host: '127.0.0.1',
      policyDir: 'policies/default',
      stateDir: '.switchyard',
      adminToken: undefined,
      bodyLimitBytes: 4 * 1024 * 1024,
      shutdownTimeoutMs: 30_000,
      heartbeatMs: 15_000,
      logLevel: 'info',
      watch: false,
      redisUrl: undefined,
      redisPrefix: 'sy:',
      databaseUrl: undefined,
      databaseSchema: undefined,
      cacheMaxBytes: 64 * 1024 * 1024,
    });
  });

  it('reads the Redis and Postgres settings, and refuses URLs of the wrong kind without echoing them', () => {
    const config = loadConfig(
      { policy: 'p' },
      {
        SWITCHYARD_REDIS_URL: 'redis://127.0.0.1:6379/2',
        SWITCHYARD_REDIS_PREFIX: 'fleet-a:',
        SWITCHYARD_DATABASE_URL: 'postgres://sy@db:5432/switchyard',
        SWITCHYARD_DATABASE_SCHEMA: 'gateway',
      },
    );
    expect([config.redisUrl, config.redisPrefix, config.databaseUrl, config.databaseSchema]).toEqual([
      'redis://127.0.0.1:6379/2',
      'fleet-a:',
      'postgres://sy@db:5432/switchyard',
      'gateway',
    ]);
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig({ policy: 'p' }, env);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(bad({ SWITCHYARD_REDIS_URL: 'postgres://u:secret@h/db' })).toBe(
      'invalid `SWITCHYARD_REDIS_URL`: expected a redis url such as `redis://127.0.0.1:6379`, got (hidden)',
    );
    expect(bad({ SWITCHYARD_DATABASE_URL: 'redis://u:secret@h' })).toMatch(
      /^invalid `SWITCHYARD_DATABASE_URL`: expected a postgres url .*, got \(hidden\)$/,
    );
    expect(bad({ SWITCHYARD_DATABASE_SCHEMA: 'Drop Table' })).toMatch(
      /SWITCHYARD_DATABASE_SCHEMA.*sql identifier/,
    );
  });

  it('reads environment variables and lets flags win over them', () => {
    const config = loadConfig(
      { port: '9000' },
      {
        SWITCHYARD_PORT: '1234',
        SWITCHYARD_POLICY: 'p',
        SWITCHYARD_ADMIN_TOKEN: 'a'.repeat(20),
        SWITCHYARD_LOG_LEVEL: 'WARN',
        SWITCHYARD_WATCH: '1',
      },
    );
    expect([config.port, config.policyDir, config.adminToken, config.logLevel, config.watch]).toEqual([
      9000,
      'p',
      'a'.repeat(20),
      'warn',
      true,
    ]);
  });

  it('is frozen', () => {
    const config = loadConfig({ policy: 'p' }, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it.each([
    [{ SWITCHYARD_PORT: 'abc' }, 'invalid `SWITCHYARD_PORT`: expected an integer from 0 to 65535, got `abc`'],
    [{ SWITCHYARD_PORT: '70000' }, 'invalid `SWITCHYARD_PORT`: expected at most 65535, got `70000`'],
    [
      { SWITCHYARD_BODY_LIMIT: '-5' },
      'invalid `SWITCHYARD_BODY_LIMIT`: expected an integer from 1024 to 1073741824, got `-5`',
    ],
    [
      { SWITCHYARD_LOG_LEVEL: 'loud' },
      'invalid `SWITCHYARD_LOG_LEVEL`: expected one of fatal, error, warn, info, debug, trace, silent, got `loud`',
    ],
    [
      { SWITCHYARD_ADMIN_TOKEN: 'short' },
      'invalid `SWITCHYARD_ADMIN_TOKEN`: expected at least 16 characters, got (hidden)',
    ],
    [
      { SWITCHYARD_WATCH: 'maybe' },
      'invalid `SWITCHYARD_WATCH`: expected 1, 0, true, false, yes or no, got `maybe`',
    ],
  ])('names the bad variable in one line: %o', (env, message) => {
    expect(() => loadConfig({ policy: 'p' }, env)).toThrow(new ConfigError(message));
  });

  it('names the flag when the bad value came from a flag', () => {
    expect(() => loadConfig({ policy: 'p', port: 'x' }, {})).toThrow(/^invalid `--port`/);
  });

  it('asks for the policy folder when none is given', () => {
    expect(() => loadConfig({}, {})).toThrow(
      'missing `SWITCHYARD_POLICY`: name the policy folder with `--policy <dir>` or `SWITCHYARD_POLICY`',
    );
  });
});
