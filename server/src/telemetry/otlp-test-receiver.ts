import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One export request the receiver got. */
export interface ReceivedExport {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A tiny OTLP/HTTP receiver on 127.0.0.1 for tests: records what it gets, answers `status`. */
export interface OtlpTestReceiver {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  url: string;
  received: ReceivedExport[];
  /** Status of the next answers (default 200). */
  status: number;
  /** Resolves once `count` exports in all have arrived. */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpTestReceiver(): Promise<OtlpTestReceiver> {
  const waiters: { count: number; resolve: () => void }[] = [];
  const receiver: OtlpTestReceiver = {
    url: '',
    received: [],
    status: 200,
    waitFor(count) {
      if (receiver.received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      receiver.received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(receiver.status, { 'content-type': 'application/json' }).end('{}');
      for (const waiter of waiters.filter((w) => receiver.received.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
