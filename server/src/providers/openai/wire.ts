import type { ChatChunk, ChatCompletion, ChatRequest, EmbeddingsResponse } from '../chat-types.ts';

/**
 * OpenAI's wire format is the gateway's canonical shape (`../chat-types.ts`); these types add the
 * fields OpenAI sends or accepts beyond it. The adapter passes them through untouched: requests
 * keep unknown fields, responses are returned as parsed.
 */

/** OpenAI's public API base URL. */
export const openAiDefaultBaseUrl = 'https://api.openai.com/v1';

/** Request fields OpenAI accepts beyond the canonical ones (all passed through as given). */
export interface OpenAiChatRequest extends ChatRequest {
  /** Reasoning models only accept `max_completion_tokens`; others accept either, so neither is rewritten. */
  max_completion_tokens?: number | null;
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null;
  service_tier?: 'auto' | 'default' | 'flex' | 'priority' | null;
  store?: boolean | null;
  prediction?: { type: 'content'; content: string | { type: 'text'; text: string }[] } | null;
  modalities?: ('text' | 'audio')[] | null;
}

/** Token details OpenAI adds to `usage`. */
export interface OpenAiUsageDetails {
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number };
  completion_tokens_details?: {
    reasoning_tokens?: number;
    audio_tokens?: number;
    accepted_prediction_tokens?: number;
    rejected_prediction_tokens?: number;
  };
}

/** A non-streamed completion as OpenAI sends it: `service_tier`, message `annotations`, usage details. */
export interface OpenAiChatCompletion extends ChatCompletion {
  service_tier?: string | null;
  choices: (ChatCompletion['choices'][number] & {
    message: ChatCompletion['choices'][number]['message'] & { annotations?: unknown[] };
  })[];
  usage?: NonNullable<ChatCompletion['usage']> & OpenAiUsageDetails;
}

/**
 * One streamed chunk as OpenAI sends it with `stream_options.include_usage`: every chunk carries
 * `usage: null` except the last one before `data: [DONE]`, whose `choices` is empty and whose `usage`
 * covers the whole request.
 */
export interface OpenAiChatChunk extends ChatChunk {
  service_tier?: string | null;
  usage?: (NonNullable<ChatChunk['usage']> & OpenAiUsageDetails) | null;
}

/** Embeddings as OpenAI sends them (`embedding` is a base64 string of float32s with `encoding_format: base64`). */
export type OpenAiEmbeddingsResponse = EmbeddingsResponse;

/** OpenAI's error body, sent with every non-2xx status. */
export interface OpenAiErrorBody {
  error: {
    message: string;
    /** e.g. `invalid_request_error`, `server_error`, `tokens`, `requests`. */
    type: string;
    /** The request field at fault, e.g. `messages` or `temperature`, else null. */
    param: string | null;
    /** e.g. `invalid_api_key`, `rate_limit_exceeded`, `context_length_exceeded`, else null. */
    code: string | null;
  };
}
