import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseWriter } from './sse-writer.ts';

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One real HTTP exchange: the server's response wrapped in an `SseWriter`, and the client's side. */
async function exchange(): Promise<{ writer: SseWriter; client: Promise<IncomingMessage> }> {
  let handed!: (res: ServerResponse) => void;
  const serverRes = new Promise<ServerResponse>((resolve) => {
    handed = resolve;
  });
  const server = createServer((_req, res) => handed(res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = new Promise<IncomingMessage>((resolve) =>
    httpRequest({ port, host: '127.0.0.1' }, resolve).end(),
  );
  return { writer: new SseWriter(await serverRes, () => ({ 'x-request-id': 'req_1' })), client };
}

async function readAll(client: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of client) text += chunk;
  return text;
}

describe('SseWriter', () => {
  it('frames events as `data: {json}\\n\\n`, with the SSE headers and the request’s own', async () => {
    const { writer, client } = await exchange();
    await writer.send({ a: 1 });
    await writer.send({ type: 'ping' }, 'ping');
    writer.end('data: [DONE]\n\n');
    const res = await client;
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['x-request-id']).toBe('req_1');
    expect(await readAll(res)).toBe(
      'data: {"a":1}\n\nevent: ping\ndata: {"type":"ping"}\n\ndata: [DONE]\n\n',
    );
  });

  it('holds a replay back and sends headers and every event in one piece at the end', async () => {
    const { writer, client } = await exchange();
    let headersSeen = false;
    void client.then(() => {
      headersSeen = true;
    });
    writer.holdUntilEnd();
    writer.commit();
    await writer.send({ n: 1 });
    await writer.send({ n: 2 });
    await sleep(50);
    expect(headersSeen).toBe(false);
    writer.end('data: [DONE]\n\n');
    const res = await client;
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-request-id']).toBe('req_1');
    expect(await readAll(res)).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('waits for a slow client to read before writing more (backpressure)', async () => {
    const { writer, client } = await exchange();
    await writer.write(': open\n\n');
    const res = await client;
    res.pause();
    const big = { text: 'x'.repeat(256 * 1024) };
    let blocked: Promise<void> | undefined;
    for (let i = 0; i < 400 && !blocked; i++) {
      const sent = writer.send(big);
      const done = await Promise.race([sent.then(() => true), sleep(50).then(() => false)]);
      if (!done) blocked = sent;
    }
    expect(blocked).toBeDefined();
    let resolved = false;
    blocked!.then(() => {
      resolved = true;
    });
    await sleep(50);
    expect(resolved).toBe(false);
    res.resume();
    await blocked;
    expect(resolved).toBe(true);
    writer.end();
  });

  it('sends heartbeats while waiting for the first event, committing the headers with the first one', async () => {
    const { writer, client } = await exchange();
    expect(writer.isCommitted).toBe(false);
    writer.startHeartbeat(15);
    const res = await client;
    expect(writer.isCommitted).toBe(true);
    await sleep(40);
    await writer.send({ first: true });
    await sleep(40);
    writer.end();
    expect(await readAll(res)).toMatch(/^(: heartbeat\n\n){2,}data: \{"first":true\}\n\n$/);
  });

  it('sends the status line and headers the moment it is told to, before any event', async () => {
    const { writer, client } = await exchange();
    writer.commit();
    writer.commit();
    const res = await client;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-request-id']).toBe('req_1');
    await writer.send({ later: true });
    writer.end();
    expect(await readAll(res)).toBe('data: {"later":true}\n\n');
  });
});
