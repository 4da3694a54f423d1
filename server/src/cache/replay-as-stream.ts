import type { ChatChunk, ChatCompletion, TokenLogprob } from '../providers/chat-types.ts';

/** Options of `completionToChunks` / `replayAsStream`. */
export interface ReplayOptions {
  /**
   * Whether to send the usage chunk (`choices: []`) last, and `usage: null` on every other chunk,
   * as OpenAI does with `stream_options.include_usage` (default false). Pass true when feeding a
   * `ChatOutput`: like an upstream stream, it drops the usage chunk for clients that did not ask.
   */
  includeUsage?: boolean | undefined;
  /** Overrides the completion's `id` (default: the cached one). */
  id?: string | undefined;
  /** Overrides `created`, in epoch seconds (default: the cached one). */
  created?: number | undefined;
  /**
   * Most characters per piece of content, refusal or tool-call arguments (default 64). Text is cut
   * after whitespace, never inside a word; arguments are cut anywhere. A replay reaches the client
   * at once, so token-sized pieces would only multiply events; answers with logprobs still replay
   * one token per chunk, each with its logprob.
   */
  pieceChars?: number | undefined;
}

/**
 * Splits text into pieces of whole words (each word with the whitespace after it) of at most
 * `maxChars` characters where the words allow, losing nothing.
 */
function wordPieces(text: string, maxChars: number): string[] {
  if (text === '') return [];
  const pieces: string[] = [];
  let piece = '';
  for (const word of text.split(/(?<=\s)(?=\S)/)) {
    if (piece !== '' && piece.length + word.length > maxChars) {
      pieces.push(piece);
      piece = '';
    }
    piece += word;
  }
  pieces.push(piece);
  return pieces;
}

function slices(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Per-token logprobs that spell out `content` exactly, so each can ride on its own piece. */
function logprobPieces(content: string, logprobs: readonly TokenLogprob[] | null | undefined) {
  if (!logprobs?.length || logprobs.map((l) => l.token).join('') !== content) return undefined;
  return logprobs;
}

/**
 * The chunk sequence OpenAI streams for a completion, so a cache hit answers a streaming client
 * with a proper stream: per choice a role chunk, the content in word pieces (one piece per token,
 * with its logprob, when the completion has logprobs; else pieces of whole words, see
 * `ReplayOptions.pieceChars`), any refusal in pieces, each tool call as a
 * chunk with its id and name followed by argument pieces, and a finish chunk; then, when asked, a
 * usage chunk with empty `choices`.
 */
export function completionToChunks(completion: ChatCompletion, options: ReplayOptions = {}): ChatChunk[] {
  const includeUsage = options.includeUsage === true;
  const pieceChars = options.pieceChars ?? 64;
  const chunk = (choice: ChatChunk['choices'][number] | undefined): ChatChunk => ({
    id: options.id ?? completion.id,
    object: 'chat.completion.chunk',
    created: options.created ?? completion.created,
    model: completion.model,
    ...(completion.system_fingerprint !== undefined
      ? { system_fingerprint: completion.system_fingerprint }
      : {}),
    choices: choice ? [choice] : [],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: ChatChunk[] = [];
  for (const choice of completion.choices) {
    const { index, message } = choice;
    const toolCalls = message.tool_calls ?? [];
    const content = message.content ?? '';
    chunks.push(
      chunk({
        index,
        delta: {
          role: 'assistant',
          content: content === '' && toolCalls.length > 0 ? null : '',
          refusal: null,
        },
        logprobs: null,
        finish_reason: null,
      }),
    );
    const tokens = logprobPieces(content, choice.logprobs?.content);
    const refusalMirrorsContent = !!message.refusal && message.refusal === content;
    const contentPieces = tokens ? tokens.map((t) => t.token) : wordPieces(content, pieceChars);
    contentPieces.forEach((piece, i) => {
      const delta = refusalMirrorsContent ? { content: piece, refusal: piece } : { content: piece };
      const logprob = tokens?.[i];
      chunks.push(
        chunk({ index, delta, logprobs: logprob ? { content: [logprob] } : null, finish_reason: null }),
      );
    });
    if (message.refusal && !refusalMirrorsContent)
      for (const piece of wordPieces(message.refusal, pieceChars))
        chunks.push(chunk({ index, delta: { refusal: piece }, logprobs: null, finish_reason: null }));
    toolCalls.forEach((call, callIndex) => {
      chunks.push(
        chunk({
          index,
          delta: {
            tool_calls: [
              {
                index: callIndex,
                id: call.id,
                type: 'function',
                function: { name: call.function.name, arguments: '' },
              },
            ],
          },
          logprobs: null,
          finish_reason: null,
        }),
      );
      for (const piece of slices(call.function.arguments, pieceChars))
        chunks.push(
          chunk({
            index,
            delta: { tool_calls: [{ index: callIndex, function: { arguments: piece } }] },
            logprobs: null,
            finish_reason: null,
          }),
        );
    });
    chunks.push(
      chunk({
        index,
        delta: {},
        logprobs: null,
        finish_reason: choice.finish_reason,
        ...(choice.stop_reason !== undefined ? { stop_reason: choice.stop_reason } : {}),
      }),
    );
  }
  if (includeUsage) chunks.push({ ...chunk(undefined), usage: completion.usage ?? null });
  return chunks;
}

/** `completionToChunks` as the async iterable a `ChatOutput.stream` consumes. */
export async function* replayAsStream(
  completion: ChatCompletion,
  options: ReplayOptions = {},
): AsyncGenerator<ChatChunk> {
  yield* completionToChunks(completion, options);
}
