import type { ChatMessage, ChatRequest, FinishReason, TokenLogprob, ToolCall, Usage } from '../chat-types.ts';
import { solveArithmetic } from './arithmetic-task.ts';
import { hashText } from './deterministic-hash.ts';
import {
  applyFormatInstructions,
  hasFormatInstructions,
  parseFormatInstructions,
} from './format-instructions.ts';
import { answerAsJson } from './json-answer.ts';
import { messageText } from './message-text.ts';
import { estimateTokens, splitIntoTokens } from './token-estimate.ts';
import { simulateLogprobs } from './token-logprobs.ts';
import { answerFromToolResults, chooseToolCalls } from './tool-call-answer.ts';

/** The refusal text `#sim:refuse` answers with. */
export const simulatedRefusal = "I can't help with that.";

/** What a simulated model answers, before it is shaped as a completion or a stream. */
export interface SimulatedAnswer {
  /** The text (null when the answer is tool calls). */
  content: string | null;
  /** `content` cut into the tokens that are streamed and scored. */
  tokens: string[];
  refusal: boolean;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** Per-token logprobs, when the request asked for them. */
  logprobs: TokenLogprob[] | undefined;
  /** Whether the task was beyond the model's tier (wrong or degraded answer). */
  struggled: boolean;
  usage: Usage;
}

/** What shapes an answer besides the request. */
export interface SimulationContext {
  /** Capability tier 1…5. */
  tier: number;
  seed: number;
  /** The deployment's model name: different models answer differently. */
  model: string;
  /** The last user message, markers removed. */
  prompt: string;
  refuse: boolean;
}

const stopwords = new Set(
  'about above after again against also because been before being below between both could does doing down during each from further have having here hers herself himself into itself just more most myself once only other ought ours over same should some such than that their theirs them themselves then there these they this those through under until very what when where which while whom with would your yours yourself please tell explain describe give write short answer question'.split(
    ' ',
  ),
);

/**
 * Decides a simulated model's answer, deterministically from the request, model, seed and tier:
 * a refusal; a report of tool results; tool calls; JSON for `response_format`; arithmetic; or a
 * short sentence built from the prompt's words. Format instructions, stop sequences and the output
 * token limit (`finish_reason: length`) then apply.
 */
export function simulateAnswer(request: ChatRequest, context: SimulationContext): SimulatedAnswer {
  const salt = hashText(context.seed, context.model, context.prompt, conversationText(request.messages));
  let text: string;
  let struggled = false;
  const toolCalls = context.refuse ? undefined : chooseToolCalls(request, context.prompt, salt);
  const toolReport = context.refuse ? undefined : answerFromToolResults(request.messages);
  const format = request.response_format;
  if (context.refuse) {
    text = simulatedRefusal;
  } else if (toolReport !== undefined) {
    text = toolReport;
  } else if (toolCalls) {
    return toolCallAnswer(request, toolCalls);
  } else if (format && format.type !== 'text') {
    const json = answerAsJson(format, context.prompt, context.tier, salt, composeProse(context.prompt, salt));
    text = json.text;
    struggled = json.struggled;
  } else {
    const instructions = parseFormatInstructions(context.prompt);
    const arithmetic = solveArithmetic(context.prompt, context.tier, salt);
    if (arithmetic) {
      struggled = !arithmetic.solved;
      text =
        instructions.numberOnly && context.tier >= 3
          ? arithmetic.answer
          : `${arithmetic.expression} = ${arithmetic.answer}.`;
    } else text = composeProse(context.prompt, salt);
    if (hasFormatInstructions(instructions)) {
      const applied = applyFormatInstructions(
        text,
        instructions,
        context.tier,
        salt,
        contentWords(context.prompt),
      );
      text = applied.text;
      struggled ||= !applied.followed;
    }
  }
  let finishReason: FinishReason = 'stop';
  const stops = typeof request.stop === 'string' ? [request.stop] : (request.stop ?? []);
  for (const stop of stops) {
    const at = stop ? text.indexOf(stop) : -1;
    if (at !== -1) text = text.slice(0, at);
  }
  let tokens = splitIntoTokens(text);
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (limit != null && estimateTokens(text) > limit) {
    ({ text, tokens } = truncateToTokens(tokens, Math.max(1, limit)));
    finishReason = 'length';
  }
  const logprobs = request.logprobs
    ? simulateLogprobs(tokens, { tier: context.tier, struggled, salt, topLogprobs: request.top_logprobs })
    : undefined;
  return {
    content: text,
    tokens,
    refusal: context.refuse,
    toolCalls: [],
    finishReason,
    logprobs,
    struggled,
    usage: usageOf(request, estimateTokens(text)),
  };
}

function toolCallAnswer(request: ChatRequest, toolCalls: ToolCall[]): SimulatedAnswer {
  const completion = estimateTokens(
    toolCalls.map((call) => call.function.name + call.function.arguments).join(''),
  );
  return {
    content: null,
    tokens: [],
    refusal: false,
    toolCalls,
    finishReason: 'tool_calls',
    logprobs: request.logprobs ? [] : undefined,
    struggled: false,
    usage: usageOf(request, completion),
  };
}

/** Keeps whole tokens while the text stays within `limit` estimated tokens (at least a part of the first). */
function truncateToTokens(tokens: readonly string[], limit: number): { text: string; tokens: string[] } {
  const kept: string[] = [];
  let length = 0;
  for (const token of tokens) {
    if (Math.ceil((length + token.length) / 4) > limit) break;
    kept.push(token);
    length += token.length;
  }
  if (kept.length === 0 && tokens[0]) kept.push(tokens[0].slice(0, limit * 4));
  return { text: kept.join(''), tokens: kept };
}

function usageOf(request: ChatRequest, completionTokens: number): Usage {
  const tools = request.tools ? JSON.stringify(request.tools) : '';
  const promptTokens = estimateTokens(conversationText(request.messages) + tools);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function conversationText(messages: readonly ChatMessage[]): string {
  return messages
    .map((message) => {
      const calls =
        message.role === 'assistant'
          ? (message.tool_calls ?? []).map((call) => call.function.name + call.function.arguments).join('')
          : '';
      return messageText(message.content) + calls;
    })
    .join('\n');
}

/** Words of four letters or more that are not stopwords, first spelling kept, in order. */
function contentWords(prompt: string): string[] {
  const seen = new Map<string, string>();
  for (const word of prompt.match(/\p{L}[\p{L}'-]*/gu) ?? []) {
    const key = word.toLowerCase();
    if (word.length >= 4 && !stopwords.has(key) && !seen.has(key)) seen.set(key, word);
  }
  return [...seen.values()];
}

const middles = [
  (a: string, b: string) => `In short, ${a} depends on the context, and ${b} is the part that matters most.`,
  (a: string, b: string) => `A practical approach is to start with ${a}, then review ${b} step by step.`,
  (a: string, b: string) => `Most sources agree that ${a} and ${b} are closely related.`,
  (a: string, b: string) => `The key idea is that ${a} works best when ${b} is kept simple.`,
  (a: string, b: string) => `It helps to compare ${a} with ${b} before deciding.`,
];
const endings = [
  'Let me know if you want more detail.',
  'That is the gist of it.',
  'I hope this helps.',
  'There is more to say, but that is the core.',
];

/** A short, deterministic answer built from the prompt's content words. */
function composeProse(prompt: string, salt: number): string {
  const words = contentWords(prompt);
  if (words.length === 0) return 'Hello! How can I help you today?';
  const [first = 'it', second = 'the details', third] = words;
  const topic = third
    ? `${first}, ${second} and ${third}`
    : words.length === 2
      ? `${first} and ${second}`
      : first;
  const middle = middles[salt % middles.length]!(first, second);
  const ending = endings[(salt >>> 8) % endings.length]!;
  return `Here is a short answer about ${topic}. ${middle} ${ending}`;
}
