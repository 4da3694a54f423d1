import { Agent } from 'undici';

/** Options of a provider's connection pool. */
export interface UpstreamAgentOptions {
  /** Connections per upstream origin (default 128). */
  maxConnections?: number;
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * Creates the keep-alive connection pool one provider uses for all its calls. Header and body
 * timeouts are off here: the resilience layer owns timeouts and aborts through the call's signal.
 */
export function createUpstreamAgent(options: UpstreamAgentOptions = {}): Agent {
  return new Agent({
    connections: options.maxConnections ?? 128,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    pipelining: 1,
  });
}
