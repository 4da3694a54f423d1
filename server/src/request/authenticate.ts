import type { IncomingHttpHeaders } from 'node:http';
import type { Plan } from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import { httpError } from '../errors.ts';
import { hashApiKey, looksLikeApiKey } from '../stores/api-key.ts';
import type { ApiKeyRecord, KeyStore } from '../stores/key-store.ts';

/** Options of the key cache in front of the key store. */
export interface AuthenticatorOptions {
  /**
   * How long a looked-up key is trusted without asking the store again (default 5000 ms). Changes
   * made through the admin API apply at once; changes made by another process (the CLI) within this.
   */
  cacheTtlMs?: number;
  /** Cached keys at most (default 10000). */
  maxCachedKeys?: number;
  /** Least time between two `lastUsedAt` updates of a key (default 60000 ms). */
  touchIntervalMs?: number;
}

/** The API key a request carries: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function readApiKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' && key.trim() !== '' ? key.trim() : undefined;
}

interface CachedKey {
  record: ApiKeyRecord;
  untilMs: number;
}

/**
 * Step 1 of the request path: turns the key a request carries into its key record, or refuses with
 * a 401 that says which of missing, invalid, expired or disabled it is. A small cache of hash →
 * record keeps the key store off the hot path.
 */
export class Authenticator {
  private readonly store: KeyStore;
  private readonly clock: Clock;
  readonly #cache = new Map<string, CachedKey>();
  readonly #hashById = new Map<string, string>();
  readonly #ttlMs: number;
  readonly #maxKeys: number;
  readonly #touchIntervalMs: number;
  readonly #lastTouch = new Map<string, number>();

  constructor(store: KeyStore, clock: Clock, options: AuthenticatorOptions = {}) {
    this.store = store;
    this.clock = clock;
    this.#ttlMs = options.cacheTtlMs ?? 5000;
    this.#maxKeys = options.maxCachedKeys ?? 10_000;
    this.#touchIntervalMs = options.touchIntervalMs ?? 60_000;
  }

  /** The usable key record for these request headers; throws a 401 `HttpError` otherwise. */
  async authenticate(headers: IncomingHttpHeaders): Promise<ApiKeyRecord> {
    const key = readApiKey(headers);
    if (key === undefined) throw httpError('missing_api_key');
    if (!looksLikeApiKey(key)) throw httpError('invalid_api_key');
    const hash = hashApiKey(key);
    const now = this.clock.now();
    let record = this.#cached(hash, now);
    if (!record) {
      record = await this.store.findByHash(hash);
      if (!record) throw httpError('invalid_api_key');
      this.#remember(hash, record, now);
    }
    if (record.disabled) throw httpError('api_key_disabled', { prefix: record.prefix });
    if (record.expiresAt !== undefined && record.expiresAt <= now) {
      throw httpError('api_key_expired', {
        prefix: record.prefix,
        expiresAt: new Date(record.expiresAt).toISOString(),
      });
    }
    this.#touch(record.id, now);
    return record;
  }

  /** Drops a key from the cache (after it was disabled or deleted) so the next request sees it. */
  forget(keyId: string): void {
    const hash = this.#hashById.get(keyId);
    if (hash !== undefined) this.#cache.delete(hash);
    this.#hashById.delete(keyId);
  }

  #cached(hash: string, now: number): ApiKeyRecord | undefined {
    const hit = this.#cache.get(hash);
    if (!hit) return undefined;
    if (hit.untilMs > now) return hit.record;
    this.#cache.delete(hash);
    return undefined;
  }

  #remember(hash: string, record: ApiKeyRecord, now: number): void {
    if (this.#cache.size >= this.#maxKeys) {
      // Map iteration order is insertion order: drop the oldest entry.
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(hash, { record, untilMs: now + this.#ttlMs });
    this.#hashById.set(record.id, hash);
  }

  #touch(keyId: string, now: number): void {
    const last = this.#lastTouch.get(keyId);
    if (last !== undefined && now - last < this.#touchIntervalMs) return;
    this.#lastTouch.set(keyId, now);
    // Best effort: a failed lastUsedAt update must never fail the request.
    this.store.touch(keyId, now).catch(() => undefined);
  }
}

/** Whether a key may use a model: keys without a list may use whatever their tenant may. */
export function isModelAllowedForKey(key: ApiKeyRecord, model: string): boolean {
  return key.allowedModels === undefined || key.allowedModels.includes(model);
}

/**
 * Applies the key's model list to a plan once it names its target: 403 when the key may use neither
 * the model it asked for nor the target; escalation hops to models the key may not use are dropped.
 */
export function restrictPlanToKey(plan: Plan, key: ApiKeyRecord, requestedModel: string): Plan {
  if (key.allowedModels === undefined) return plan;
  if (isModelAllowedForKey(key, requestedModel) && requestedModel !== plan.target) return plan;
  if (!isModelAllowedForKey(key, plan.target))
    throw httpError('model_not_allowed_for_key', { model: plan.target });
  const escalation = plan.escalation.filter((hop) => isModelAllowedForKey(key, hop.to));
  return escalation.length === plan.escalation.length ? plan : { ...plan, escalation };
}
