import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../chat-types.ts';
import type { SseEvent } from '../sse-parser.ts';
import { AnthropicStreamTranslator } from './stream.ts';
import type { AnthropicStreamEvent } from './wire.ts';

async function translate(events: AnthropicStreamEvent[]): Promise<ChatChunk[]> {
  async function* source(): AsyncGenerator<SseEvent> {
    for (const e of events) yield { event: e.type, data: JSON.stringify(e) };
  }
  const out: ChatChunk[] = [];
  for await (const chunk of new AnthropicStreamTranslator(1).translate(source())) out.push(chunk);
  return out;
}

const start: AnthropicStreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  },
};

describe('AnthropicStreamTranslator', () => {
  it('gives a tool called without arguments `{}` as its arguments', async () => {
    const chunks = await translate([
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} },
      },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 9 },
      },
      { type: 'message_stop' },
    ]);
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((t) => t.function?.arguments ?? '');
    expect(args.join('')).toBe('{}');
  });

  it('drops thinking blocks and ignores unknown events, and maps a refusal to content_filter', async () => {
    const chunks = await translate([
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'secret plan' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'some_future_event' } as unknown as AnthropicStreamEvent,
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'text_delta', text: 'I can’t help with that.' },
      },
      { type: 'content_block_stop', index: 1 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'refusal', stop_sequence: null },
        usage: { output_tokens: 7 },
      },
      { type: 'message_stop' },
    ]);
    expect(JSON.stringify(chunks)).not.toContain('secret plan');
    expect(chunks.map((c) => c.choices[0]?.delta.content).filter(Boolean)).toEqual([
      'I can’t help with that.',
    ]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('content_filter');
  });

  it('reports the stop sequence on the finish chunk and the cumulative usage of message_delta', async () => {
    const chunks = await translate([
      start,
      {
        type: 'message_delta',
        delta: { stop_reason: 'stop_sequence', stop_sequence: '###' },
        usage: { output_tokens: 12, input_tokens: 6, cache_read_input_tokens: 100 },
      },
      { type: 'message_stop' },
    ]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]).toMatchObject({
      finish_reason: 'stop',
      stop_reason: '###',
    });
    expect(chunks.at(-1)!.usage).toEqual({
      prompt_tokens: 106,
      completion_tokens: 12,
      total_tokens: 118,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });
});
