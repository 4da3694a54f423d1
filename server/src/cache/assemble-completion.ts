import type { ChatChunk, ChatCompletion, TokenLogprob, ToolCall, Usage } from '../providers/chat-types.ts';

interface ChoiceDraft {
  content: string;
  sawContent: boolean;
  refusal: string;
  toolCalls: ToolCall[];
  logprobs: TokenLogprob[] | undefined;
  finishReason: ChatCompletion['choices'][number]['finish_reason'];
  stopReason: string | number | null | undefined;
}

/**
 * Rebuilds the non-streamed completion from a streamed answer's chunks, so a streamed answer can be
 * cached (and later replayed to either kind of client). Feed every chunk in order with `add`; `result`
 * is the completion so far. Memory grows with the answer, as the answer itself does.
 */
export class CompletionAssembler {
  #first: ChatChunk | undefined;
  #usage: Usage | undefined;
  readonly #choices = new Map<number, ChoiceDraft>();

  /** Takes one chunk. */
  add(chunk: ChatChunk): void {
    this.#first ??= chunk;
    if (chunk.usage) this.#usage = chunk.usage;
    for (const choice of chunk.choices) {
      let draft = this.#choices.get(choice.index);
      if (!draft) {
        draft = {
          content: '',
          sawContent: false,
          refusal: '',
          toolCalls: [],
          logprobs: undefined,
          finishReason: null,
          stopReason: undefined,
        };
        this.#choices.set(choice.index, draft);
      }
      const { delta } = choice;
      if (typeof delta.content === 'string') {
        draft.content += delta.content;
        draft.sawContent = true;
      }
      if (typeof delta.refusal === 'string') draft.refusal += delta.refusal;
      for (const call of delta.tool_calls ?? []) {
        const existing = draft.toolCalls[call.index];
        if (existing) {
          existing.function.arguments += call.function?.arguments ?? '';
          if (call.id) existing.id = call.id;
          if (call.function?.name) existing.function.name += call.function.name;
        } else {
          draft.toolCalls[call.index] = {
            id: call.id ?? '',
            type: 'function',
            function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' },
          };
        }
      }
      if (choice.logprobs?.content) {
        draft.logprobs ??= [];
        draft.logprobs.push(...choice.logprobs.content);
      }
      if (choice.finish_reason) draft.finishReason = choice.finish_reason;
      if (choice.stop_reason !== undefined && choice.stop_reason !== null)
        draft.stopReason = choice.stop_reason;
    }
  }

  /** The completion the chunks so far make up; undefined before the first chunk. */
  result(): ChatCompletion | undefined {
    const first = this.#first;
    if (!first) return undefined;
    const choices = [...this.#choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, d]) => {
        const toolCalls = d.toolCalls.filter(Boolean);
        return {
          index,
          message: {
            role: 'assistant' as const,
            content: d.sawContent && (d.content !== '' || toolCalls.length === 0) ? d.content : null,
            ...(d.refusal !== '' ? { refusal: d.refusal } : {}),
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: d.finishReason,
          ...(d.stopReason !== undefined ? { stop_reason: d.stopReason } : {}),
          ...(d.logprobs ? { logprobs: { content: d.logprobs } } : {}),
        };
      });
    return {
      id: first.id,
      object: 'chat.completion',
      created: first.created,
      model: first.model,
      ...(first.system_fingerprint !== undefined ? { system_fingerprint: first.system_fingerprint } : {}),
      choices,
      ...(this.#usage ? { usage: this.#usage } : {}),
    };
  }
}
