/**
 * Gemini API wire types (`/v1beta/models/{model}:generateContent`, `:streamGenerateContent`,
 * `:batchEmbedContents`), as documented in Google's Gemini API reference. Only the fields
 * Switchyard reads or writes are typed.
 */

/** A function call the model made; `id` is only sent by some models. */
export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

/** The result of a function call, sent back in a user turn. */
export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

/** One part of a content: exactly one of its data fields is set. */
export interface GeminiPart {
  text?: string;
  /** A thought summary part (thinking models), not answer text. */
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
}

/** A turn: `user` or `model`. */
export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

/** A function the model may call; `parameters` is an OpenAPI 3.0 schema subset. */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

/** `generationConfig` of a request. */
export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
}

/** `POST …:generateContent` / `:streamGenerateContent` body. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GeminiGenerationConfig;
}

/** Why a candidate stopped. */
export type GeminiFinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 'STOP'
  | 'MAX_TOKENS'
  | 'SAFETY'
  | 'RECITATION'
  | 'LANGUAGE'
  | 'OTHER'
  | 'BLOCKLIST'
  | 'PROHIBITED_CONTENT'
  | 'SPII'
  | 'MALFORMED_FUNCTION_CALL'
  | 'IMAGE_SAFETY';

/** One generated candidate. */
export interface GeminiCandidate {
  content?: GeminiContent;
  finishReason?: GeminiFinishReason;
  index?: number;
}

/** Token counts; `promptTokenCount` includes `cachedContentTokenCount`. */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
}

/** A `generateContent` response, and each event of a `streamGenerateContent?alt=sse` stream. */
export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** `POST …:batchEmbedContents` body. */
export interface GeminiBatchEmbedRequest {
  requests: { model: string; content: GeminiContent; outputDimensionality?: number }[];
}

/** `POST …:batchEmbedContents` response. */
export interface GeminiBatchEmbedResponse {
  embeddings: { values: number[] }[];
}

/** An error body (Google's standard error shape); `details` may carry `google.rpc.RetryInfo`. */
export interface GeminiErrorBody {
  error: {
    code: number;
    message: string;
    /** Canonical code: INVALID_ARGUMENT, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL… */
    status: string;
    details?: { '@type'?: string; reason?: string; retryDelay?: string }[];
  };
}
