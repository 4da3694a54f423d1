import type { ChatMessage, ChatRequest, ToolCall, ToolDefinition } from '../chat-types.ts';
import { hashText } from './deterministic-hash.ts';
import { createFillContext, fillJsonValue, type JsonSchema } from './json-answer.ts';
import { messageText } from './message-text.ts';

/**
 * The tool calls a simulated model makes, if any: when tools are offered, `tool_choice` is not
 * `none`, the last message is the user's, and `tool_choice` is `required`, names a function, or
 * the prompt mentions a tool's name (`get_weather` or "get weather"). Mentioned tools are all
 * called unless `parallel_tool_calls` is false; `required` with none mentioned calls the first.
 * Arguments fill the tool's parameter schema from the prompt; ids are `call_<hash>`.
 */
export function chooseToolCalls(request: ChatRequest, prompt: string, salt: number): ToolCall[] | undefined {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  if (tools.length === 0 || choice === 'none' || request.messages.at(-1)?.role !== 'user') return undefined;
  let chosen: ToolDefinition[];
  if (typeof choice === 'object')
    chosen = tools.filter((tool) => tool.function.name === choice.function.name).slice(0, 1);
  else {
    const mentioned = tools.filter((tool) => mentions(prompt, tool.function.name));
    chosen = mentioned.length > 0 ? mentioned : choice === 'required' ? tools.slice(0, 1) : [];
    if (request.parallel_tool_calls === false) chosen = chosen.slice(0, 1);
  }
  if (chosen.length === 0) return undefined;
  return chosen.map((tool, index) => {
    const schema = (tool.function.parameters ?? { type: 'object', properties: {} }) as JsonSchema;
    const source = prompt
      .replace(new RegExp(`\\b${tool.function.name}\\b`, 'gi'), ' ')
      .replace(/\s+/g, ' ')
      .trim();
    const args = fillJsonValue(schema, '', createFillContext(schema, source, true, salt));
    return {
      id: `call_${hashText(salt, tool.function.name, index).toString(36).padStart(7, '0')}${hashText(index, salt).toString(36)}`,
      type: 'function',
      function: { name: tool.function.name, arguments: JSON.stringify(args) },
    };
  });
}

/**
 * The text answer after tool results: when the last message is a tool result, the model reports
 * what the tool it called returned (matched by `tool_call_id`).
 */
export function answerFromToolResults(messages: readonly ChatMessage[]): string | undefined {
  const results: ChatMessage[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--)
    results.unshift(messages[i]!);
  if (results.length === 0) return undefined;
  const calls = new Map<string, string>();
  for (const message of messages)
    if (message.role === 'assistant')
      for (const call of message.tool_calls ?? []) calls.set(call.id, call.function.name);
  const parts = results.map((result) => {
    const name = result.role === 'tool' ? (calls.get(result.tool_call_id) ?? 'the tool') : 'the tool';
    const summary = messageText(result.content).replace(/\s+/g, ' ').trim();
    return `${name} returned ${summary.length > 300 ? `${summary.slice(0, 300)}…` : summary}`;
  });
  return `Based on the tool results: ${parts.join('; ')}.`;
}

function mentions(prompt: string, name: string): boolean {
  const lower = prompt.toLowerCase();
  const spaced = name.replace(/[_-]+/g, ' ').toLowerCase();
  return lower.includes(name.toLowerCase()) || (spaced !== name.toLowerCase() && lower.includes(spaced));
}
