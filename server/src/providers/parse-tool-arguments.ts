import { invalidChatRequestError } from './invalid-chat-request-error.ts';

/**
 * The JSON object an OpenAI tool call's `arguments` string holds, for providers whose wire format
 * takes the arguments as an object (Anthropic `tool_use.input`, Gemini `functionCall.args`). An
 * empty string is `{}`; anything but a JSON object is the client's mistake (400).
 */
export function parseToolArguments(id: string, args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw invalidChatRequestError(`arguments of tool call \`${id}\` are not valid json`, 'invalid_request');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalidChatRequestError(
      `arguments of tool call \`${id}\` must be a json object`,
      'invalid_request',
    );
  return parsed as Record<string, unknown>;
}
