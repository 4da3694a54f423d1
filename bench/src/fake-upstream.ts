import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { isMainModule } from './is-main-module.ts';

/**
 * A fast OpenAI-compatible upstream for the overhead bench: node:http, no framework, every
 * response body built once at startup. `POST /v1/chat/completions` answers a fixed completion, or
 * with `"stream": true` 20 content chunks 5 ms apart (plus a usage chunk when
 * `stream_options.include_usage` is set) and `data: [DONE]`; `POST /v1/embeddings` a fixed
 * 256-dimension vector; `GET /healthz` 200. Run it as a process to pin it to a core:
 * `node --import tsx bench/src/fake-upstream.ts --port 9100` (`--exit-with-stdin`: stop when stdin
 * closes, as the bench starts it).
 */

/** The model name the upstream reports in every body. */
export const upstreamModel = 'bench-model';
/** Content chunks in a streamed completion. */
export const streamChunkCount = 20;
/** Delay between streamed content chunks, in ms. */
export const streamChunkIntervalMs = 5;
/** Dimensions of the fixed embedding vector. */
export const embeddingDimensions = 256;

const created = 1_700_000_000;
const id = 'chatcmpl-bench0000000000';
const usage = { prompt_tokens: 24, completion_tokens: streamChunkCount, total_tokens: 24 + streamChunkCount };

const completionBody = Buffer.from(
  JSON.stringify({
    id,
    object: 'chat.completion',
    created,
    model: upstreamModel,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Hello! This is the fixed benchmark reply, twenty tokens long or so.',
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
  }),
);

function sseEvent(payload: object | string): Buffer {
  return Buffer.from(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
}

const streamChunks: Buffer[] = Array.from({ length: streamChunkCount }, (_, i) =>
  sseEvent({
    id,
    object: 'chat.completion.chunk',
    created,
    model: upstreamModel,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        delta: i === 0 ? { role: 'assistant', content: `tok${i} ` } : { content: `tok${i} ` },
        logprobs: null,
        finish_reason: i === streamChunkCount - 1 ? 'stop' : null,
      },
    ],
  }),
);
const usageChunk = sseEvent({
  id,
  object: 'chat.completion.chunk',
  created,
  model: upstreamModel,
  choices: [],
  usage,
});
const doneChunk = sseEvent('[DONE]');

const embeddingBody = Buffer.from(
  JSON.stringify({
    object: 'list',
    data: [
      {
        object: 'embedding',
        index: 0,
        embedding: Array.from({ length: embeddingDimensions }, (_, i) => Number(Math.sin(i + 1).toFixed(6))),
      },
    ],
    model: upstreamModel,
    usage: { prompt_tokens: 9, total_tokens: 9 },
  }),
);

const jsonHead = { 'content-type': 'application/json' };
const sseHead = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

// A byte scan instead of JSON.parse keeps the upstream cheap; the bench's clients and the gateways
// all write compact JSON, and whitespace is allowed for anything else.
const streamPattern = /"stream"\s*:\s*true/;
const includeUsagePattern = /"include_usage"\s*:\s*true/;

function sendJson(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { ...jsonHead, 'content-length': body.length });
  res.end(body);
}

function streamCompletion(res: ServerResponse, includeUsage: boolean): void {
  res.writeHead(200, sseHead);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const writeNext = () => {
    if (res.destroyed) return;
    res.write(streamChunks[next]!);
    next += 1;
    if (next < streamChunkCount) {
      timer = setTimeout(writeNext, streamChunkIntervalMs);
      return;
    }
    if (includeUsage) res.write(usageChunk);
    res.end(doneChunk);
  };
  res.once('close', () => clearTimeout(timer));
  writeNext();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'POST')
      return sendJson(res, 405, Buffer.from('{"error":{"message":"method not allowed"}}'));
    if (path === '/v1/embeddings') return sendJson(res, 200, embeddingBody);
    if (path !== '/v1/chat/completions')
      return sendJson(res, 404, Buffer.from('{"error":{"message":"not found"}}'));
    const body =
      chunks.length === 1 ? chunks[0]!.toString('latin1') : Buffer.concat(chunks).toString('latin1');
    if (streamPattern.test(body)) streamCompletion(res, includeUsagePattern.test(body));
    else sendJson(res, 200, completionBody);
  });
}

/** A listening bench upstream. */
export interface BenchUpstream {
  /** `http://127.0.0.1:<port>` (clients append `/v1/...`). */
  origin: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts the bench upstream on 127.0.0.1 (`port` 0 picks a free one). */
export async function startBenchUpstream(port = 0): Promise<BenchUpstream> {
  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, handle);
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'exit-with-stdin': { type: 'boolean', default: false },
    },
  });
  const upstream = await startBenchUpstream(Number(values.port));
  console.log(`fake upstream listening on ${upstream.origin}`);
  const stop = () => {
    upstream.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The bench starts us with a stdin pipe: when the bench dies, the pipe closes and so do we.
  if (values['exit-with-stdin']) process.stdin.on('end', stop).resume();
}
