import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { isMainModule } from './is-main-module.ts';

/**
 * The bare Node passthrough proxy: node:http in, an undici keep-alive Pool out, the request body
 * piped up and the response body piped back untouched (no parsing, no auth, no policy). It is the
 * practical limit for any Node gateway, the baseline the overhead bench holds Switchyard to.
 * Run as a process: `node --import tsx bench/src/passthrough-proxy.ts --port 9101 --upstream http://127.0.0.1:9100`.
 */

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded; `host`
// is the upstream's, undici sets it.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

function forwardable(
  headers: IncomingMessage['headers'] | Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (!hopByHop.has(name)) out[name] = headers[name];
  }
  return out;
}

/** A listening passthrough proxy. */
export interface PassthroughProxy {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  server: Server;
  close(): Promise<void>;
}

/** Options of `startPassthroughProxy`. */
export interface PassthroughOptions {
  /** Upstream origin, e.g. `http://127.0.0.1:9100`; paths are forwarded as they come. */
  upstream: string;
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Upstream connections (default 512, more than any bench scenario keeps in flight). */
  connections?: number;
}

/** Starts the passthrough proxy on 127.0.0.1. */
export async function startPassthroughProxy(options: PassthroughOptions): Promise<PassthroughProxy> {
  const pool = new Pool(options.upstream, {
    connections: options.connections ?? 512,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    pool
      .request({
        path: req.url ?? '/',
        method: method as 'POST',
        headers: forwardable(req.headers) as Record<string, string>,
        body: hasBody ? req : null,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      })
      .then(
        (upstream) => {
          res.writeHead(upstream.statusCode, forwardable(upstream.headers));
          upstream.body.pipe(res);
          // A client that goes away aborts the upstream response at once.
          res.once('close', () => {
            if (!upstream.body.readableEnded) upstream.body.destroy();
          });
        },
        (err: Error) => {
          if (res.headersSent) {
            res.destroy(err);
            return;
          }
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { message: `upstream failed: ${err.message}`, type: 'upstream_error' } }),
          );
        },
      );
  });
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
    },
  };
}

if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      upstream: { type: 'string' },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
  });
  if (!values.upstream) {
    console.error(
      'usage: passthrough-proxy --upstream http://127.0.0.1:<port> [--port <n>] [--exit-with-stdin]',
    );
    process.exit(2);
  }
  const proxy = await startPassthroughProxy({ upstream: values.upstream, port: Number(values.port) });
  console.log(`passthrough proxy listening on ${proxy.origin} -> ${values.upstream}`);
  const stop = () => {
    proxy.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The bench starts us with a stdin pipe: when the bench dies, the pipe closes and so do we.
  if (values['exit-with-stdin']) process.stdin.on('end', stop).resume();
}
