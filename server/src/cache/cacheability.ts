import type { ChatCompletion, EmbeddingsResponse } from '../providers/chat-types.ts';

/** The name of the response header that says how the cache answered. */
export const cacheStatusHeader = 'x-switchyard-cache';

/**
 * How the cache took part in a request: `hit` answered from cache, `miss` looked and found nothing
 * (the answer may be stored), `bypass` did not look (the client's `Cache-Control`, or a request the
 * cache cannot judge safely, such as a semantic lookup of an image). No header when no rule applied.
 */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** How a request ended, as far as caching is concerned. */
export type CacheableOutcome = 'ok' | 'error' | 'cancelled';

/** Finish reasons of a complete, unfiltered answer. */
const completeFinishReasons = new Set(['stop', 'tool_calls']);

function isChatCompletion(value: ChatCompletion | EmbeddingsResponse): value is ChatCompletion {
  return (value as ChatCompletion).object === 'chat.completion';
}

/**
 * Whether an answer may be stored: only a complete answer of a request that succeeded. Never
 * errors or cancelled requests; never a chat answer cut short (`length`, or no finish reason) or
 * filtered (`content_filter`); never a refusal (a one-off refusal must not become the answer for a
 * ttl); never an empty answer.
 */
export function isCacheable(
  completion: ChatCompletion | EmbeddingsResponse | undefined,
  outcome: CacheableOutcome,
): boolean {
  if (outcome !== 'ok' || !completion) return false;
  if (!isChatCompletion(completion)) return completion.object === 'list' && completion.data.length > 0;
  return (
    completion.choices.length > 0 &&
    completion.choices.every(
      (choice) =>
        completeFinishReasons.has(choice.finish_reason ?? '') &&
        !choice.message.refusal &&
        ((choice.message.content ?? '') !== '' || (choice.message.tool_calls?.length ?? 0) > 0),
    )
  );
}

/** What the client's `Cache-Control` allows for this request. */
export interface CacheDirectives {
  /** Whether an entry may answer it (false for `no-cache`, `no-store`, `max-age=0`). */
  read: boolean;
  /** Whether its answer may be stored (false for `no-store`). */
  write: boolean;
  /** `max-age=<s>`: only entries younger than this may answer, in ms. */
  maxAgeMs?: number | undefined;
}

/**
 * Parses the request's `Cache-Control` (case-insensitive, comma-separated, repeated headers merged):
 * `no-cache` skips the lookup but still stores the fresh answer; `no-store` neither reads nor stores;
 * `max-age=N` accepts only entries stored less than N seconds ago (`max-age=0` is `no-cache`).
 * Anything else is ignored.
 */
export function cacheDirectivesFrom(header: string | readonly string[] | undefined): CacheDirectives {
  const directives: CacheDirectives = { read: true, write: true };
  const text = typeof header === 'string' ? header : (header ?? []).join(',');
  for (const part of text.toLowerCase().split(',')) {
    const [name, value] = part
      .trim()
      .split('=', 2)
      .map((s) => s.trim());
    if (name === 'no-cache') directives.read = false;
    else if (name === 'no-store') {
      directives.read = false;
      directives.write = false;
    } else if (name === 'max-age' && value !== undefined && /^"?\d+"?$/.test(value)) {
      const seconds = Number(value.replaceAll('"', ''));
      if (seconds === 0) directives.read = false;
      else directives.maxAgeMs = Math.min(directives.maxAgeMs ?? Number.POSITIVE_INFINITY, seconds * 1000);
    }
  }
  return directives;
}

/** Whether an entry stored at `storedAt` is young enough for the client's `max-age`. */
export function isFreshEnough(storedAt: number, directives: CacheDirectives, nowMs: number): boolean {
  return directives.maxAgeMs === undefined || nowMs - storedAt < directives.maxAgeMs;
}
