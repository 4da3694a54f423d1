import { Redis } from 'ioredis';

/** Options of `openRedisConnection`. */
export interface RedisConnectionOptions {
  /** Name shown in `CLIENT LIST` (default `switchyard`). */
  connectionName?: string | undefined;
  /** Longest wait for the TCP connection, in ms (default 2000). */
  connectTimeoutMs?: number | undefined;
  /** Longest wait for a command's reply before it fails, in ms (default 1000). */
  commandTimeoutMs?: number | undefined;
  /** Longest pause between two reconnection attempts, in ms (default 2000). */
  maxReconnectDelayMs?: number | undefined;
  /** Told about connection errors (the commands that fail reject on their own); default: ignored. */
  onError?: ((error: Error) => void) | undefined;
}

/**
 * Connects to Redis at `url` (`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS) and
 * resolves once the connection is ready; rejects, leaving nothing running, when it cannot connect.
 *
 * Settings are for state on the request path, where a slow answer is worse than a fast failure:
 * commands are never queued while the connection is down (`enableOfflineQueue: false`), a command
 * cut off by a lost connection fails instead of being sent again after the reconnect
 * (`maxRetriesPerRequest: 0`: a script that did run must not run twice), and a reply slower than
 * `commandTimeoutMs` fails. The caller decides
 * whether a failure lets the request through (fail-open) or refuses it (fail-closed). The client
 * keeps reconnecting in the background, with backoff, until `quit()` or `disconnect()`.
 *
 * Do not set ioredis' `keyPrefix` on a client shared with the stores: they take their own `prefix`.
 */
export async function openRedisConnection(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const maxDelay = options.maxReconnectDelayMs ?? 2_000;
  const client = new Redis(url, {
    lazyConnect: true,
    connectionName: options.connectionName ?? 'switchyard',
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
  });
  client.on('error', (error: Error) => options.onError?.(error));
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot connect to redis at \`${redactRedisUrl(url)}\`: ${(err as Error).message}`);
  }
  return client;
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
