import type { ProviderSpec } from '@switchyard/engine';
import { OpenAiBaseAdapter } from '../openai-base.ts';
import { openAiDefaultBaseUrl } from './wire.ts';

/** Options of an OpenAI adapter. */
export interface OpenAiAdapterOptions {
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * Talks to OpenAI's Chat Completions and Embeddings APIs (default base URL
 * `https://api.openai.com/v1`). An API key is required; `organization` is sent as
 * `OpenAI-Organization`; token limits pass through as given.
 */
export class OpenAiAdapter extends OpenAiBaseAdapter {
  constructor(spec: ProviderSpec, options: OpenAiAdapterOptions = {}) {
    if (!spec.apiKey)
      throw new Error('an `openai` provider needs `apiKey`, e.g. `apiKey: ${env:OPENAI_API_KEY}`');
    super(spec, {
      defaultBaseUrl: openAiDefaultBaseUrl,
      requiresApiKey: true,
      tokenLimitField: 'as-given',
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }
}
