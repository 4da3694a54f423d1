import type { ChatRequest, ContentPart, EmbeddingsRequest } from '../chat-types.ts';
import { invalidChatRequestError } from '../invalid-chat-request-error.ts';
import { parseToolArguments } from '../parse-tool-arguments.ts';
import type {
  GeminiBatchEmbedRequest,
  GeminiContent,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
} from './wire.ts';

/**
 * Translates an OpenAI chat request into a Gemini `generateContent` request: system and developer
 * messages → `systemInstruction`; assistant → role `model` with `functionCall` parts; tool results →
 * `functionResponse` parts of a user turn, named after the call they answer (Gemini matches results
 * by function name, so each `tool_call_id` is looked up in the assistant messages before it);
 * consecutive turns of one role merge; `response_format` → `responseMimeType`/`responseSchema`.
 */
export function toGeminiRequest(request: ChatRequest): GeminiRequest {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const functionNameByCallId = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: GeminiPart[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(message.content));
        break;
      case 'user':
        push('user', userParts(message.content));
        break;
      case 'assistant': {
        const parts = message.content ? textParts(message.content) : [];
        for (const call of message.tool_calls ?? []) {
          functionNameByCallId.set(call.id, call.function.name);
          parts.push({
            functionCall: {
              name: call.function.name,
              args: parseToolArguments(call.id, call.function.arguments),
            },
          });
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = functionNameByCallId.get(message.tool_call_id);
        if (!name)
          throw invalidChatRequestError(
            `tool message answers \`${message.tool_call_id}\`, which no earlier assistant message called`,
            'invalid_request',
          );
        const text =
          typeof message.content === 'string'
            ? message.content
            : message.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
        push('user', [{ functionResponse: { name, response: functionResponseObject(text) } }]);
        break;
      }
    }
  }

  const out: GeminiRequest = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  if (request.tools && request.tools.length > 0) {
    out.tools = [
      {
        functionDeclarations: request.tools.map((tool) => {
          const parameters = tool.function.parameters ? toGeminiSchema(tool.function.parameters) : undefined;
          return {
            name: tool.function.name,
            ...(tool.function.description ? { description: tool.function.description } : {}),
            // Gemini rejects an OBJECT schema without properties: a function without parameters omits them.
            ...(parameters && !isEmptyObjectSchema(parameters) ? { parameters } : {}),
          };
        }),
      },
    ];
  }
  const choice = request.tool_choice;
  if (choice === 'auto') out.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
  else if (choice === 'required') out.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
  else if (choice === 'none') out.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
  else if (typeof choice === 'object')
    out.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };

  const config = generationConfig(request);
  if (Object.keys(config).length > 0) out.generationConfig = config;
  return out;
}

function generationConfig(request: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  if (typeof request.top_k === 'number') config.topK = request.top_k;
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (stop && stop.length > 0) config.stopSequences = stop;
  if (request.n != null && request.n > 1) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty;
  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (format.json_schema.schema) config.responseSchema = toGeminiSchema(format.json_schema.schema);
  }
  return config;
}

function textParts(content: string | ContentPart[]): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.flatMap((part) => (part.type === 'text' && part.text !== '' ? [{ text: part.text }] : []));
}

const dataUrlPattern = /^data:([^;,]+);base64,(.*)$/s;

function userParts(content: string | ContentPart[]): GeminiPart[] {
  if (typeof content === 'string') return textParts(content);
  return content.flatMap((part): GeminiPart[] => {
    if (part.type === 'text') return textParts(part.text);
    const url = part.image_url.url;
    const match = dataUrlPattern.exec(url);
    if (match) return [{ inlineData: { mimeType: match[1]!, data: match[2]! } }];
    if (url.startsWith('data:'))
      throw invalidChatRequestError('image data urls must be base64-encoded', 'invalid_request');
    const mimeType = imageMimeTypeOf(url);
    return [{ fileData: { fileUri: url, ...(mimeType ? { mimeType } : {}) } }];
  });
}

const imageMimeTypes: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

function imageMimeTypeOf(url: string): string | undefined {
  const extension = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  return extension ? imageMimeTypes[extension] : undefined;
}

/** Gemini wants an object: JSON objects pass as they are, anything else is wrapped as `{output}`, as Google's docs suggest. */
function functionResponseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { output: parsed };
  } catch {
    return { output: text };
  }
}

/** Keywords of Gemini's Schema object (an OpenAPI 3.0 subset); other JSON Schema keywords are rejected upstream. */
const geminiSchemaKeywords = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/**
 * Rewrites a JSON Schema into Gemini's Schema subset: `type: [x, "null"]` → `type: x, nullable`,
 * `const` → a one-value `enum`, and keywords Gemini rejects (`additionalProperties`, `$schema`,
 * `strict`…) dropped, recursively.
 */
export function toGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      if (types.length !== value.length) out.nullable = true;
      if (types.length === 1) out.type = types[0];
      else if (types.length > 1) out.anyOf = types.map((type) => ({ type }));
    } else if (key === 'const') out.enum = [value];
    else if (!geminiSchemaKeywords.has(key)) continue;
    else if (key === 'properties' && isRecord(value))
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? toGeminiSchema(sub) : sub]),
      );
    else if (key === 'items' && isRecord(value)) out.items = toGeminiSchema(value);
    else if (key === 'anyOf' && Array.isArray(value))
      out.anyOf = value.map((sub) => (isRecord(sub) ? toGeminiSchema(sub) : sub));
    else out[key] = value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  const properties = schema.properties;
  return (
    String(schema.type).toLowerCase() === 'object' &&
    (!isRecord(properties) || Object.keys(properties).length === 0)
  );
}

/**
 * Translates an OpenAI embeddings request into a Gemini `batchEmbedContents` request for `model`:
 * one request per input string; `dimensions` → `outputDimensionality`. Token-id inputs have no
 * Gemini equivalent and are rejected.
 */
export function toGeminiBatchEmbedRequest(
  request: EmbeddingsRequest,
  model: string,
): GeminiBatchEmbedRequest {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  const texts = inputs.map((input) => {
    if (typeof input !== 'string')
      throw invalidChatRequestError(
        'gemini embeddings take text input, not token ids',
        'unsupported_capability',
      );
    return input;
  });
  if (texts.length === 0)
    throw invalidChatRequestError('embeddings `input` must not be empty', 'invalid_request');
  const name = `models/${model.replace(/^models\//, '')}`;
  return {
    requests: texts.map((text) => ({
      model: name,
      content: { parts: [{ text }] },
      ...(request.dimensions ? { outputDimensionality: request.dimensions } : {}),
    })),
  };
}
