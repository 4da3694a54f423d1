import type { ProviderSpec } from '@switchyard/engine';
import { AnthropicAdapter } from './anthropic/adapter.ts';
import { GeminiAdapter } from './gemini/adapter.ts';
import { OpenAiAdapter } from './openai/adapter.ts';
import { OpenAiCompatibleAdapter } from './openai-compatible/adapter.ts';
import type { ProviderAdapter } from './provider.ts';
import { SimulatorAdapter } from './simulator/adapter.ts';

/** Options shared by every network adapter. */
export interface ProviderAdapterOptions {
  /** TCP + TLS connect timeout in milliseconds (default 2000; the resilience policy's `connectMs`). */
  connectTimeoutMs?: number;
}

/**
 * Creates the adapter for a declared provider: one per provider, holding its connection pool.
 * Throws when the declaration lacks what its type needs (`apiKey` for openai, `baseUrl` for
 * openai-compatible).
 */
export function createProviderAdapter(
  spec: ProviderSpec,
  options: ProviderAdapterOptions = {},
): ProviderAdapter {
  switch (spec.type) {
    case 'openai':
      return new OpenAiAdapter(spec, options);
    case 'openai-compatible':
      return new OpenAiCompatibleAdapter(spec, options);
    case 'anthropic':
      return new AnthropicAdapter(spec, options);
    case 'gemini':
      return new GeminiAdapter(spec, options);
    case 'simulator':
      return new SimulatorAdapter(spec);
  }
}
