import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request the fake upstream received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  json: unknown;
  /** The client's port: equal ports on two requests mean one reused keep-alive connection. */
  remotePort: number;
  /** Resolves with `performance.now()` when this request's socket closed. */
  socketClosed: Promise<number>;
}

/**
 * Answers one recorded request; writes to `res` like any node:http handler. `closed` resolves when
 * the request's socket closes (the adapter aborted, or the connection ended).
 */
export type FakeUpstreamHandler = (
  request: RecordedRequest,
  res: ServerResponse,
  closed: Promise<number>,
) => void | Promise<void>;

/** A node:http server on 127.0.0.1 standing in for a provider's API in tests. */
export interface FakeUpstream {
  /** `http://127.0.0.1:<port>`, without a path: tests append the API prefix (`/v1`). */
  baseUrl: string;
  /** Requests received so far, in order. */
  requests: RecordedRequest[];
  /** Replaces the handler for the requests that follow. */
  handle(handler: FakeUpstreamHandler): void;
  /** Closes the server and every open connection. */
  close(): Promise<void>;
}

/**
 * Starts a fake upstream on an ephemeral loopback port. Provider tests replay the providers'
 * documented wire examples through it, so adapters are exercised over real HTTP and sockets.
 */
export async function startFakeUpstream(
  handler: FakeUpstreamHandler = (_, res) => {
    res.end();
  },
): Promise<FakeUpstream> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const socketClosed = new Promise<number>((resolve) =>
      req.socket.once('close', () => resolve(performance.now())),
    );
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        json,
        remotePort: req.socket.remotePort ?? 0,
        socketClosed,
      };
      requests.push(recorded);
      Promise.resolve(current(recorded, res, socketClosed)).catch((err: unknown) =>
        res.destroy(err as Error),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads `./fixtures/<name>` next to the test module whose `import.meta.url` is given. */
export function readFixture(moduleUrl: string | URL, name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, moduleUrl), 'utf8');
}

/** Answers with a JSON body (a string is sent as is). */
export function replyJson(
  res: ServerResponse,
  status: number,
  body: string | object,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Sends a 200 event-stream head at once, before any event. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** Splits an SSE fixture into its frames, each ending with its blank line (`data: …\n\n`). */
export function sseFrames(sse: string): string[] {
  return sse
    .split(/\n\n+/)
    .map((frame) => frame.trim())
    .filter((frame) => frame.length > 0)
    .map((frame) => `${frame}\n\n`);
}

/**
 * Answers with an event stream, one write per frame of `sse`. `before(index)` may delay a frame, so
 * a test can hold the stream open mid-way.
 */
export async function replySse(
  res: ServerResponse,
  sse: string,
  options: { before?: (index: number) => Promise<void> | undefined } = {},
): Promise<void> {
  startSse(res);
  for (const [index, frame] of sseFrames(sse).entries()) {
    await options.before?.(index);
    if (res.destroyed) return;
    res.write(frame);
  }
  res.end();
}
