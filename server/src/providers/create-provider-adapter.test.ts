import { describe, expect, it } from 'vitest';
import { AnthropicAdapter } from './anthropic/adapter.ts';
import { createProviderAdapter } from './create-provider-adapter.ts';
import { GeminiAdapter } from './gemini/adapter.ts';
import { OpenAiAdapter } from './openai/adapter.ts';
import { OpenAiCompatibleAdapter } from './openai-compatible/adapter.ts';
import { SimulatorAdapter } from './simulator/adapter.ts';

const key = '${env:KEY}';

describe('createProviderAdapter', () => {
  it.each([
    ['openai', OpenAiAdapter, { apiKey: key }],
    ['openai-compatible', OpenAiCompatibleAdapter, { baseUrl: 'http://127.0.0.1:8000/v1' }],
    ['anthropic', AnthropicAdapter, { apiKey: key }],
    ['gemini', GeminiAdapter, { apiKey: key }],
    ['simulator', SimulatorAdapter, {}],
  ] as const)('creates the %s adapter', async (type, adapterClass, extra) => {
    const adapter = createProviderAdapter({ type, maxConnections: 1, ...extra });
    expect(adapter).toBeInstanceOf(adapterClass);
    await adapter.close();
  });

  it('refuses declarations missing what their type needs', () => {
    expect(() => createProviderAdapter({ type: 'openai', maxConnections: 1 })).toThrow(/needs `apiKey`/);
    expect(() => createProviderAdapter({ type: 'openai-compatible', maxConnections: 1 })).toThrow(
      /needs `baseUrl`/,
    );
  });
});
