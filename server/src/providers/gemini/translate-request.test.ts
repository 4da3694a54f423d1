import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.ts';
import { toGeminiRequest, toGeminiSchema } from './translate-request.ts';

const call = (id: string, name: string, args = '{}') => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
});

describe('toGeminiRequest', () => {
  it('names each function response after the call it answers, even when ids repeat across turns', () => {
    const out = toGeminiRequest({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [call('call_0', 'get_weather', '{"city":"Paris"}'), call('call_1', 'get_time')],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '14:00' },
        { role: 'tool', tool_call_id: 'call_0', content: '{"celsius":21}' },
        { role: 'assistant', content: null, tool_calls: [call('call_0', 'get_news')] },
        { role: 'tool', tool_call_id: 'call_0', content: '[]' },
      ],
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather and time in Paris?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_time', response: { output: '14:00' } } },
          { functionResponse: { name: 'get_weather', response: { celsius: 21 } } },
        ],
      },
      { role: 'model', parts: [{ functionCall: { name: 'get_news', args: {} } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_news', response: { output: [] } } }] },
    ]);
  });

  it('sends data-url images inline and other urls as file data with a guessed mime type', () => {
    const out = toGeminiRequest({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe' },
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=large' } },
          ],
        },
      ],
    });
    expect(out.contents[0]!.parts).toEqual([
      { text: 'Describe' },
      { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
      { fileData: { fileUri: 'https://example.com/cat.JPG?size=large', mimeType: 'image/jpeg' } },
    ]);
  });

  it('gathers system and developer messages into systemInstruction', () => {
    const out = toGeminiRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(out.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }] });
    expect(out.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi' }] }]);
  });

  it('maps tool_choice to functionCallingConfig modes', () => {
    const base: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
    };
    expect(toGeminiRequest(base).toolConfig).toBeUndefined();
    expect(toGeminiRequest({ ...base, tool_choice: 'auto' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'AUTO' },
    });
    expect(toGeminiRequest({ ...base, tool_choice: 'required' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    });
    expect(toGeminiRequest({ ...base, tool_choice: 'none' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'NONE' },
    });
  });

  it('puts sampling settings, n and seed into generationConfig, preferring max_completion_tokens', () => {
    const out = toGeminiRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 50,
      max_completion_tokens: 40,
      n: 2,
      seed: 7,
      stop: 'END',
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      top_k: 20,
    });
    expect(out.generationConfig).toEqual({
      maxOutputTokens: 40,
      candidateCount: 2,
      seed: 7,
      stopSequences: ['END'],
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      topK: 20,
    });
  });
});

describe('toGeminiSchema', () => {
  it('rewrites JSON Schema into Gemini’s subset, recursively', () => {
    expect(
      toGeminiSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        additionalProperties: false,
        properties: {
          tags: { type: 'array', items: { type: 'string', const: 'x' } },
          note: { type: ['string', 'null'], description: 'optional' },
          value: { anyOf: [{ type: 'number' }, { type: 'string', additionalProperties: true }] },
          either: { type: ['number', 'string'] },
        },
        required: ['tags'],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', enum: ['x'] } },
        note: { type: 'string', nullable: true, description: 'optional' },
        value: { anyOf: [{ type: 'number' }, { type: 'string' }] },
        either: { anyOf: [{ type: 'number' }, { type: 'string' }] },
      },
      required: ['tags'],
    });
  });
});
