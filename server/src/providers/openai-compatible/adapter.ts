import type { ProviderSpec } from '@switchyard/engine';
import { OpenAiBaseAdapter } from '../openai-base.ts';

/** Options of an OpenAI-compatible adapter. */
export interface OpenAiCompatibleAdapterOptions {
  /** TCP + TLS connect timeout in milliseconds (default 2000). */
  connectTimeoutMs?: number;
}

/**
 * Talks to self-hosted servers that speak OpenAI's API: vLLM, SGLang, Ollama and llama.cpp's
 * server. `baseUrl` is required and includes the `/v1` prefix (`http://localhost:11434/v1` for
 * Ollama); the key is optional (sent as a bearer token when given). `max_completion_tokens` is sent
 * as `max_tokens`, the field all of them read.
 */
export class OpenAiCompatibleAdapter extends OpenAiBaseAdapter {
  constructor(spec: ProviderSpec, options: OpenAiCompatibleAdapterOptions = {}) {
    if (!spec.baseUrl)
      throw new Error(
        'an `openai-compatible` provider needs `baseUrl`, e.g. `baseUrl: http://localhost:8000/v1`',
      );
    super(spec, {
      requiresApiKey: false,
      tokenLimitField: 'max_tokens',
      connectTimeoutMs: options.connectTimeoutMs,
    });
  }
}
