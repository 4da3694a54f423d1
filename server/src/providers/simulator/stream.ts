import type { ChatChunk, ChatCompletion } from '../chat-types.ts';
import { UpstreamError } from '../provider.ts';
import { abortableDelay } from './abortable-delay.ts';
import type { SimulatedAnswer } from './simulated-answer.ts';
import { splitIntoTokens } from './token-estimate.ts';

/** Identity fields every chunk and completion of one simulated answer carries. */
export interface SimulatedResponseMeta {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
  /** Provider name, for error messages. */
  provider: string;
}

/** When chunks are sent, and where a stream stalls or fails (`#sim:stall`, `#sim:midstream-error`). */
export interface SimulatedPacing {
  firstTokenMs: number;
  perTokenMs: number;
  /** Send this many chunks (the role chunk counts), then hang until aborted. */
  stallAfterChunks?: number | undefined;
  /** Send this many chunks (the role chunk counts), then fail. */
  errorAfterChunks?: number | undefined;
}

/** The answer as a non-streamed completion. */
export function toChatCompletion(answer: SimulatedAnswer, meta: SimulatedResponseMeta): ChatCompletion {
  const refusal = answer.refusal ? answer.content : null;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.systemFingerprint,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.content,
          refusal,
          ...(answer.toolCalls.length > 0 ? { tool_calls: answer.toolCalls } : {}),
        },
        finish_reason: answer.finishReason,
        logprobs: answer.logprobs ? { content: answer.logprobs } : null,
      },
    ],
    usage: answer.usage,
  };
}

/**
 * The chunks OpenAI streams for this answer with `include_usage`: a role chunk, one content chunk
 * per token (with its logprob), or per tool call a chunk with id and name followed by argument
 * pieces; a finish chunk; then a usage chunk with empty `choices`. All but the last carry `usage: null`.
 */
export function toChatChunks(answer: SimulatedAnswer, meta: SimulatedResponseMeta): ChatChunk[] {
  const chunk = (
    choice: ChatChunk['choices'][number] | undefined,
    usage: ChatChunk['usage'] = null,
  ): ChatChunk => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.systemFingerprint,
    choices: choice ? [choice] : [],
    usage,
  });
  const isToolCalls = answer.toolCalls.length > 0;
  const chunks = [
    chunk({
      index: 0,
      delta: { role: 'assistant', content: isToolCalls ? null : '', refusal: null },
      logprobs: null,
      finish_reason: null,
    }),
  ];
  answer.tokens.forEach((token, index) => {
    const logprob = answer.logprobs?.[index];
    chunks.push(
      chunk({
        index: 0,
        delta: answer.refusal ? { content: token, refusal: token } : { content: token },
        logprobs: logprob ? { content: [logprob] } : null,
        finish_reason: null,
      }),
    );
  });
  answer.toolCalls.forEach((call, index) => {
    chunks.push(
      chunk({
        index: 0,
        delta: {
          tool_calls: [
            { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
          ],
        },
        logprobs: null,
        finish_reason: null,
      }),
    );
    for (const piece of splitIntoTokens(call.function.arguments))
      chunks.push(
        chunk({
          index: 0,
          delta: { tool_calls: [{ index, function: { arguments: piece } }] },
          logprobs: null,
          finish_reason: null,
        }),
      );
  });
  chunks.push(chunk({ index: 0, delta: {}, logprobs: null, finish_reason: answer.finishReason }));
  chunks.push(chunk(undefined, answer.usage));
  return chunks;
}

/**
 * Sends the chunks on real timers: the role chunk after `firstTokenMs`, each content or argument
 * piece `perTokenMs` after the previous one, finish and usage at once. The signal cancels any wait.
 */
export async function* paceChunks(
  chunks: readonly ChatChunk[],
  pacing: SimulatedPacing,
  meta: SimulatedResponseMeta,
  signal: AbortSignal,
): AsyncGenerator<ChatChunk> {
  for (let index = 0; index <= chunks.length; index++) {
    if (index === pacing.stallAfterChunks)
      await abortableDelay(Number.POSITIVE_INFINITY, signal, meta.provider);
    if (index === pacing.errorAfterChunks) throw midstreamError(meta.provider, index);
    const next = chunks[index];
    if (!next) return;
    const isPiece = index > 0 && next.choices[0]?.finish_reason === null;
    await abortableDelay(
      index === 0 ? pacing.firstTokenMs : isPiece ? pacing.perTokenMs : 0,
      signal,
      meta.provider,
    );
    yield next;
  }
}

/** The failure `#sim:midstream-error` ends a stream with, after `chunks` chunks. */
export function midstreamError(provider: string, chunks: number): UpstreamError {
  return new UpstreamError(
    `${provider} answered with an error: simulated failure after ${chunks} chunks (#sim:midstream-error)`,
    'body',
    502,
    'upstream_error',
    'upstream_server_error',
  );
}
