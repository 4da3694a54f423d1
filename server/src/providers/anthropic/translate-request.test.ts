import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.ts';
import { UpstreamError } from '../provider.ts';
import { applyPromptCacheBreakpoints } from './apply-prompt-cache-breakpoints.ts';
import { toAnthropicRequest } from './translate-request.ts';

const model = 'claude-sonnet-4-20250514';

describe('toAnthropicRequest', () => {
  it('moves system and developer messages into system blocks, wherever they appear', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        ],
      },
      model,
    );
    expect(out.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Answer in French.' },
    ]);
    expect(out.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('sends data-url images as base64 sources and http images as url sources', () => {
    const out = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              {
                type: 'image_url',
                image_url: { url: 'https://upload.wikimedia.org/ant.jpg', detail: 'high' },
              },
            ],
          },
        ],
      },
      model,
    );
    expect(out.messages[0]!.content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/ant.jpg' } },
    ]);
  });

  it('prefers max_completion_tokens, then max_tokens, then 4096', () => {
    const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    expect(toAnthropicRequest(base, model).max_tokens).toBe(4096);
    expect(toAnthropicRequest({ ...base, max_tokens: 300 }, model).max_tokens).toBe(300);
    expect(
      toAnthropicRequest({ ...base, max_tokens: 300, max_completion_tokens: 200 }, model).max_tokens,
    ).toBe(200);
  });

  it('maps every tool_choice and turns parallel_tool_calls false into disable_parallel_tool_use', () => {
    const base: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
    };
    expect(toAnthropicRequest(base, model).tool_choice).toBeUndefined();
    expect(toAnthropicRequest(base, model).tools).toEqual([
      { name: 'lookup', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(toAnthropicRequest({ ...base, tool_choice: 'auto' }, model).tool_choice).toEqual({ type: 'auto' });
    expect(toAnthropicRequest({ ...base, tool_choice: 'required' }, model).tool_choice).toEqual({
      type: 'any',
    });
    expect(toAnthropicRequest({ ...base, tool_choice: 'none' }, model).tool_choice).toEqual({ type: 'none' });
    expect(
      toAnthropicRequest(
        {
          ...base,
          tool_choice: { type: 'function', function: { name: 'lookup' } },
          parallel_tool_calls: false,
        },
        model,
      ).tool_choice,
    ).toEqual({ type: 'tool', name: 'lookup', disable_parallel_tool_use: true });
    expect(toAnthropicRequest({ ...base, parallel_tool_calls: false }, model).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
  });

  it('asks for JSON through a system instruction, including the schema, since Anthropic has no JSON mode', () => {
    const base: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    const jsonObject = toAnthropicRequest({ ...base, response_format: { type: 'json_object' } }, model);
    expect(jsonObject.system).toEqual([{ type: 'text', text: expect.stringContaining('valid JSON object') }]);
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const jsonSchema = toAnthropicRequest(
      { ...base, response_format: { type: 'json_schema', json_schema: { name: 'place', schema } } },
      model,
    );
    const text = (jsonSchema.system as { text: string }[])[0]!.text;
    expect(text).toContain('`place`');
    expect(text).toContain(JSON.stringify(schema));
    expect(toAnthropicRequest({ ...base, response_format: { type: 'text' } }, model).system).toBeUndefined();
  });

  it('rejects what Anthropic cannot express: n > 1 and tool arguments that are not a JSON object', () => {
    expect(() =>
      toAnthropicRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 }, model),
    ).toThrow(UpstreamError);
    const badArgs = (args: string) => () =>
      toAnthropicRequest(
        {
          model: 'm',
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: args } }],
            },
            { role: 'tool', tool_call_id: 't1', content: 'ok' },
          ],
        },
        model,
      );
    expect(badArgs('{not json')).toThrow(/arguments of tool call `t1` are not valid json/);
    expect(badArgs('[1]')).toThrow(/must be a json object/);
    expect(badArgs('')).not.toThrow();
  });
});

describe('applyPromptCacheBreakpoints', () => {
  it('marks the last system block and the last tool without touching the input', () => {
    const request = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'A' },
          { role: 'system', content: 'B' },
          { role: 'user', content: 'x' },
        ],
        tools: [
          { type: 'function', function: { name: 'one' } },
          { type: 'function', function: { name: 'two' } },
        ],
      },
      model,
    );
    const snapshot = structuredClone(request);
    const cached = applyPromptCacheBreakpoints(request);
    expect(request).toEqual(snapshot);
    expect(cached.system).toEqual([
      { type: 'text', text: 'A' },
      { type: 'text', text: 'B', cache_control: { type: 'ephemeral' } },
    ]);
    expect(cached.tools?.map((t) => t.cache_control)).toEqual([undefined, { type: 'ephemeral' }]);
    expect(cached.messages).toBe(request.messages);
  });

  it('turns a string system prompt into a marked block and leaves requests without prefixes alone', () => {
    const marked = applyPromptCacheBreakpoints({ model, max_tokens: 10, system: 'S', messages: [] });
    expect(marked.system).toEqual([{ type: 'text', text: 'S', cache_control: { type: 'ephemeral' } }]);
    const bare = { model, max_tokens: 10, messages: [{ role: 'user' as const, content: 'x' }] };
    expect(applyPromptCacheBreakpoints(bare)).toEqual(bare);
  });
});
