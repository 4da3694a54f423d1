import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, KeyCap, KeyStore } from './key-store.ts';

/** Every Switchyard API key starts with this. */
export const apiKeyPrefix = 'sk-sy-';

const base62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random base62 text; rejection sampling keeps every character equally likely. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += base62[byte % 62];
    }
  }
  return out;
}

/** A new API key secret: `sk-sy-` followed by 40 random base62 characters (about 238 bits). */
export function generateApiKey(): string {
  return apiKeyPrefix + randomBase62(40);
}

/** A new key id, `key_` followed by 16 base62 characters. */
export function generateKeyId(): string {
  return `key_${randomBase62(16)}`;
}

/** The SHA-256 hex digest under which a key is stored and looked up. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether two hex digests are equal, compared in constant time. */
export function isSameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Whether a string has the shape of a Switchyard key (cheap check before hashing). */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(apiKeyPrefix) && text.length >= apiKeyPrefix.length + 32 && text.length <= 200;
}

/** What a new key is for. */
export interface NewApiKey {
  tenant: string;
  name?: string | undefined;
  allowedModels?: readonly string[] | undefined;
  expiresAt?: number | undefined;
  caps?: readonly KeyCap[] | undefined;
}

/** Creates and stores a key; the returned `key` is the only time the secret is ever visible. */
export async function issueApiKey(
  store: KeyStore,
  spec: NewApiKey,
  nowMs: number,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = generateApiKey();
  const record: ApiKeyRecord = {
    id: generateKeyId(),
    name: spec.name ?? '',
    tenant: spec.tenant,
    prefix: key.slice(0, apiKeyPrefix.length + 4),
    allowedModels: spec.allowedModels && spec.allowedModels.length > 0 ? [...spec.allowedModels] : undefined,
    expiresAt: spec.expiresAt,
    disabled: false,
    createdAt: nowMs,
  };
  if (spec.caps && spec.caps.length > 0) record.caps = spec.caps.map((c) => ({ ...c }));
  await store.create(hashApiKey(key), record);
  return { key, record };
}

/** A key as the admin API and the CLI show it: ISO dates, never the secret or its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  tenant: string;
  prefix: string;
  allowedModels: readonly string[] | null;
  expiresAt: string | null;
  caps: readonly KeyCap[] | null;
  disabled: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** The public view of a key record. */
export function viewApiKey(record: ApiKeyRecord): ApiKeyView {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    name: record.name,
    tenant: record.tenant,
    prefix: record.prefix,
    allowedModels: record.allowedModels ?? null,
    expiresAt: iso(record.expiresAt),
    caps: record.caps ?? null,
    disabled: record.disabled,
    createdAt: new Date(record.createdAt).toISOString(),
    lastUsedAt: iso(record.lastUsedAt),
  };
}
