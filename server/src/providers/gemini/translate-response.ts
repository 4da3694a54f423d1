import type {
  ChatCompletion,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  Usage,
} from '../chat-types.ts';
import type {
  GeminiBatchEmbedResponse,
  GeminiFinishReason,
  GeminiPart,
  GeminiResponse,
  GeminiUsageMetadata,
} from './wire.ts';

/**
 * Maps Gemini's `finishReason` to OpenAI's `finish_reason`: a candidate that called functions ends
 * with `tool_calls` (Gemini says STOP); safety, recitation and blocklist stops are content filters.
 */
export function finishReasonFromGemini(
  reason: GeminiFinishReason | undefined,
  calledFunctions: boolean,
): FinishReason | null {
  if (reason === undefined) return null;
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      return calledFunctions ? 'tool_calls' : 'stop';
  }
}

/**
 * Maps Gemini's usage to OpenAI's: `promptTokenCount` already includes cached tokens; thinking
 * tokens are billed as output, so they count as completion tokens.
 */
export function usageFromGemini(usage: GeminiUsageMetadata | undefined): Usage {
  const prompt = usage?.promptTokenCount ?? 0;
  const completion = (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage?.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: usage?.cachedContentTokenCount ?? 0 },
  };
}

/** Gemini has no tool call ids (most models): numbers them `call_<n>` in the order they appear in one response. */
export class ToolCallIds {
  private next = 0;
  /** The id for a call: Gemini's own when it sent one, otherwise the next `call_<n>`. */
  idFor(part: GeminiPart): string {
    return part.functionCall?.id ?? `call_${this.next++}`;
  }
}

/** Answer text of parts: thought summaries are not part of the answer. */
export function answerText(parts: readonly GeminiPart[]): string | undefined {
  let text: string | undefined;
  for (const part of parts) if (part.text !== undefined && !part.thought) text = (text ?? '') + part.text;
  return text;
}

/**
 * Translates a `generateContent` response into an OpenAI chat completion, one choice per candidate.
 * A prompt blocked before any candidate was generated becomes one empty `content_filter` choice.
 */
export function fromGeminiResponse(
  response: GeminiResponse,
  fallback: { id: string; model: string; createdSeconds: number },
): ChatCompletion {
  const ids = new ToolCallIds();
  const candidates = response.candidates ?? [];
  const choices: ChatCompletion['choices'] = candidates.map((candidate, position) => {
    const parts = candidate.content?.parts ?? [];
    const toolCalls: ToolCall[] = [];
    for (const part of parts) {
      if (part.functionCall)
        toolCalls.push({
          id: ids.idFor(part),
          type: 'function',
          function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
        });
    }
    return {
      index: candidate.index ?? position,
      message: {
        role: 'assistant',
        content: answerText(parts) ?? null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: finishReasonFromGemini(candidate.finishReason ?? 'STOP', toolCalls.length > 0),
    };
  });
  if (choices.length === 0)
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null },
      finish_reason: response.promptFeedback?.blockReason ? 'content_filter' : 'stop',
    });
  return {
    id: response.responseId ?? fallback.id,
    object: 'chat.completion',
    created: fallback.createdSeconds,
    model: response.modelVersion ?? fallback.model,
    choices,
    usage: usageFromGemini(response.usageMetadata),
  };
}

/**
 * Translates a `batchEmbedContents` response into OpenAI's embeddings response. Gemini reports no
 * token counts for embeddings, so usage is estimated at four UTF-8 bytes a token: quotas must still
 * charge something.
 */
export function fromGeminiBatchEmbedResponse(
  response: GeminiBatchEmbedResponse,
  request: EmbeddingsRequest,
  model: string,
): EmbeddingsResponse {
  const texts = typeof request.input === 'string' ? [request.input] : (request.input as string[]);
  const estimatedTokens = texts.reduce(
    (sum, text) => sum + Math.ceil(Buffer.byteLength(text, 'utf8') / 4),
    0,
  );
  return {
    object: 'list',
    data: response.embeddings.map((embedding, index) => ({
      object: 'embedding',
      index,
      embedding:
        request.encoding_format === 'base64'
          ? Buffer.from(new Float32Array(embedding.values).buffer).toString('base64')
          : embedding.values,
    })),
    model,
    usage: { prompt_tokens: estimatedTokens, total_tokens: estimatedTokens },
  };
}
