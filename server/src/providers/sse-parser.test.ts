import { describe, expect, it } from 'vitest';
import { parseSse } from './sse-parser.ts';

async function collect(chunks: string[]) {
  const out = [];
  for await (const e of parseSse(
    (async function* () {
      yield* chunks.map((c) => new TextEncoder().encode(c));
    })(),
  ))
    out.push(e);
  return out;
}

describe('parseSse', () => {
  it('yields events split at arbitrary byte boundaries', async () => {
    const text = 'event: message_start\ndata: {"a":1}\n\ndata: {"b":2}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(await collect([text.slice(0, cut), text.slice(cut)])).toEqual([
        { event: 'message_start', data: '{"a":1}' },
        { event: undefined, data: '{"b":2}' },
      ]);
    }
  });

  it('handles CRLF split between chunks, comments and multi-line data', async () => {
    expect(await collect([': keep-alive\r', '\n', 'data: a\r', '\ndata: b\r\n\r', '\n'])).toEqual([
      { event: undefined, data: 'a\nb' },
    ]);
  });

  it('emits a final event that has no trailing blank line', async () => {
    expect(await collect(['data: [DONE]'])).toEqual([{ event: undefined, data: '[DONE]' }]);
  });
});
