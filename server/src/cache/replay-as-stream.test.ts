import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderSpec } from '@switchyard/engine';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatCompletion, ChatRequest } from '../providers/chat-types.ts';
import { collectChunks, testDeployment } from '../providers/openai-wire.contract.ts';
import { SimulatorAdapter } from '../providers/simulator/adapter.ts';
import { CompletionAssembler } from './assemble-completion.ts';
import { completionToChunks, replayAsStream } from './replay-as-stream.ts';

const spec: ProviderSpec = {
  type: 'simulator',
  maxConnections: 1,
  profile: { ttftMs: 0, tpotMs: 0, jitter: 0, errorRate: 0, errorStatus: 503, seed: 1 },
};
const simulator = new SimulatorAdapter(spec);
const call = () => ({
  deployment: testDeployment(spec, 'sim-large', 'sim'),
  signal: new AbortController().signal,
  requestId: 'req-1',
});
const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'fast',
  messages: [{ role: 'user', content }],
  ...extra,
});
const weather: ChatRequest['tools'] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    },
  },
];

/** The simulator's answer to `request`, both non-streamed and streamed. */
async function simulated(request: ChatRequest) {
  const completion = await simulator.chat(request, call());
  const streamed = await collectChunks(await simulator.chatStream({ ...request, stream: true }, call()));
  return { completion, streamed };
}

function assemble(chunks: readonly ChatChunk[]): ChatCompletion {
  const assembler = new CompletionAssembler();
  for (const chunk of chunks) assembler.add(chunk);
  return assembler.result()!;
}

/** What a client learns from a completion, with `null`/absent differences normalised away. */
function meaning(completion: ChatCompletion) {
  return {
    id: completion.id,
    model: completion.model,
    usage: completion.usage,
    choices: completion.choices.map((c) => ({
      content: c.message.content ?? null,
      refusal: c.message.refusal ?? null,
      tool_calls: c.message.tool_calls ?? [],
      finish_reason: c.finish_reason,
      logprobs: c.logprobs?.content ?? null,
    })),
  };
}

const cases: [string, ChatRequest][] = [
  ['a text answer', ask('Explain how vector databases index embeddings')],
  ['a tool call', ask('What is the weather in Paris?', { tools: weather, tool_choice: 'required' })],
  ['an answer with logprobs', ask('Say hello to the world', { logprobs: true, top_logprobs: 2 })],
  ['a refusal', ask('Do it #sim:refuse')],
];

describe('replaying a cached completion as a stream', () => {
  it.each(cases)('carries everything of %s that the upstream stream carried', async (_name, request) => {
    const { completion, streamed } = await simulated(request);
    const replayed = completionToChunks(completion, { includeUsage: true });
    expect(meaning(assemble(replayed))).toEqual(meaning(completion));
    // The assembler agrees with the simulator's own stream, so it is not only agreeing with itself
    // (the simulator numbers its responses: the streamed one has the next id).
    expect(meaning({ ...assemble(streamed), id: completion.id })).toEqual(meaning(completion));
  });

  it('opens with the role chunk and ends with a finish chunk, then the usage chunk, as OpenAI does', async () => {
    const { completion, streamed } = await simulated(cases[0]![1]);
    const identity = { id: streamed[0]!.id, created: streamed[0]!.created };
    const replayed = completionToChunks(completion, { includeUsage: true, ...identity });
    expect(replayed[0]).toEqual(streamed[0]);
    expect(replayed.at(-2)).toEqual(streamed.at(-2));
    expect(replayed.at(-1)).toEqual(streamed.at(-1));
    expect(replayed.length).toBeGreaterThan(4);
    for (const chunk of replayed.slice(0, -1)) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', id: identity.id, usage: null });
      expect(chunk.choices).toHaveLength(1);
    }
  });

  it('streams tool calls as id and name first, then argument pieces', async () => {
    const { completion } = await simulated(cases[1]![1]);
    const replayed = completionToChunks(completion, { pieceChars: 4 });
    const deltas = replayed.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({
      index: 0,
      id: completion.choices[0]!.message.tool_calls![0]!.id,
      type: 'function',
    });
    expect(
      deltas.slice(1).every((d) => d.id === undefined && (d.function?.arguments?.length ?? 0) <= 4),
    ).toBe(true);
    expect(replayed[0]!.choices[0]!.delta.content).toBeNull();
    expect(replayed.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('leaves usage out entirely unless asked, and takes a fresh id and created when given', () => {
    const completion: ChatCompletion = {
      id: 'chatcmpl-old',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hello  there\nfriend' }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
    };
    const chunks = completionToChunks(completion, { id: 'chatcmpl-new', created: 99, pieceChars: 7 });
    expect(chunks.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
    expect(chunks.every((c) => c.id === 'chatcmpl-new' && c.created === 99)).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '')).toEqual([
      '',
      'Hello  ',
      'there\n',
      'friend',
      '',
    ]);
  });

  it('cuts content into pieces of whole words of at most 64 characters, losing nothing', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}${i % 7 === 0 ? ',\n' : ' '}`);
    const long = 'x'.repeat(100);
    const content = `${words.join('')}${long} end`;
    const completion: ChatCompletion = {
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    };
    const pieces = completionToChunks(completion)
      .slice(1, -1)
      .map((c) => c.choices[0]!.delta.content!);
    expect(pieces.join('')).toBe(content);
    expect(pieces.length).toBeGreaterThan(5);
    // A word longer than a piece is kept whole; every other piece fits and ends where a word ends.
    expect(pieces).toContain(`${long} `);
    for (const piece of pieces.filter((p) => p !== `${long} `)) {
      expect(piece.length).toBeLessThanOrEqual(64);
      expect(content.slice(content.indexOf(piece) + piece.length)).toMatch(/^(\S|$)/);
      expect(piece).toMatch(/\s$|end$/);
    }
  });

  it('replays every choice of an n > 1 answer', () => {
    const completion: ChatCompletion = {
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'One.' }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: 'Two.' }, finish_reason: 'stop' },
      ],
    };
    expect(meaning(assemble(completionToChunks(completion)))).toEqual(meaning(completion));
  });
});

describe('a replayed stream read by the OpenAI SDK', () => {
  let server: Server;
  let replayOf: ChatCompletion;
  beforeAll(async () => {
    server = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for await (const chunk of replayAsStream(replayOf, { includeUsage: true }))
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(cases.slice(0, 2))('gives the SDK the same final completion for %s', async (_name, request) => {
    const { completion } = await simulated(request);
    replayOf = completion;
    const { port } = server.address() as AddressInfo;
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const stream = client.chat.completions.stream({
      model: 'fast',
      messages: [{ role: 'user', content: 'x' }],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content ?? null).toEqual(completion.choices[0]!.message.content ?? null);
    expect(final.choices[0]!.message.tool_calls ?? []).toEqual(
      completion.choices[0]!.message.tool_calls ?? [],
    );
    expect(final.choices[0]!.finish_reason).toBe(completion.choices[0]!.finish_reason);
    expect(final.usage).toEqual(completion.usage);
  });
});
