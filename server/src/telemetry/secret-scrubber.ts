/** What a secret is replaced with. */
export const redactedText = '[REDACTED]';

/**
 * Values that look like credentials wherever they appear in text: OpenAI-style and Switchyard keys
 * (`sk-…`, `sk-proj-…`, `sk-ant-…`, `sk-sy-…`), bearer tokens, Google API keys (`AIza…`), Groq
 * (`gsk_…`), xAI (`xai-…`), GitHub (`ghp_…`) and AWS access key ids, passwords in URLs, and
 * `api_key=…`-style assignments (the name is kept).
 */
const secretPatterns: readonly [RegExp, string][] = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, `Bearer ${redactedText}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, redactedText],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, redactedText],
  [/\bgsk_[A-Za-z0-9]{20,}/g, redactedText],
  [/\bxai-[A-Za-z0-9]{20,}/g, redactedText],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}/g, redactedText],
  [/\bAKIA[0-9A-Z]{16}\b/g, redactedText],
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, `$1${redactedText}@`],
  [
    /\b(api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|secret)(["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
    `$1$2${redactedText}`,
  ],
];

/**
 * What every pattern above needs somewhere in the text (case-insensitive, so a superset): text
 * without any of it cannot hold a secret, and skips the nine replacements. Most logged strings
 * (ids, model and route names) are like that.
 */
const mightHoldSecret = /bearer|sk-|aiza|gsk_|xai-|gh[pousr]_|akia|@|key|token|secret|password/i;

/** Field names whose values are secrets whatever they look like (compared lower-case, without `-` and `_`). */
const secretFieldNames = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'xapikey',
  'apikey',
  'xgoogapikey',
  'password',
  'secret',
  'clientsecret',
  'accesstoken',
  'refreshtoken',
  'admintoken',
]);

/** What is known of a field name: whether its value is a secret, and the name itself redacted. */
interface FieldNameVerdict {
  secret: boolean;
  clean: string;
}

/** Verdicts on field names so far: logged records repeat the same few field names. */
const fieldNameVerdicts = new Map<string, FieldNameVerdict>();

function fieldNameVerdict(name: string): FieldNameVerdict {
  let verdict = fieldNameVerdicts.get(name);
  if (verdict === undefined) {
    verdict = {
      secret: secretFieldNames.has(name.toLowerCase().replace(/[-_]/g, '')),
      clean: redactSecretText(name),
    };
    // Bounded: names come from requests too (headers, content), and must not grow memory.
    if (fieldNameVerdicts.size >= 1024) fieldNameVerdicts.clear();
    fieldNameVerdicts.set(name, verdict);
  }
  return verdict;
}

/** Whether a field name says its value is a secret (`authorization`, `x-api-key`, `apiKey`…). */
export function isSecretFieldName(name: string): boolean {
  return fieldNameVerdict(name).secret;
}

/** The text with everything that looks like a credential replaced by `[REDACTED]`. */
export function redactSecretText(text: string): string {
  // Shorter than the shortest match of any pattern (`//a:b@`): most logged words, statuses, methods.
  if (text.length < 6 || !mightHoldSecret.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of secretPatterns) out = out.replace(pattern, replacement);
  return out;
}

/** Options of `scrubSecrets`. */
export interface ScrubOptions {
  /** Longest string kept, in characters; longer ones are cut and marked (default: no limit). */
  maxStringChars?: number | undefined;
  /** Deepest nesting kept (default 16); deeper values become `[Truncated]`. */
  maxDepth?: number | undefined;
}

/**
 * A JSON-safe deep copy of `value` with secrets removed: fields named like secrets are replaced,
 * and credential-looking text is redacted in every string (keys, messages, error messages and stacks
 * included). Errors become `{ type, message, code, stack }`; cycles become `[Circular]`.
 */
export function scrubSecrets(value: unknown, options: ScrubOptions = {}): unknown {
  const maxChars = options.maxStringChars ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? 16;
  const seen = new WeakSet<object>();
  const scrubString = (text: string) => {
    const clean = redactSecretText(text);
    return clean.length > maxChars ? `${clean.slice(0, maxChars)}…[truncated]` : clean;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v);
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v;
    if (depth >= maxDepth) return '[Truncated]';
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    try {
      if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return '[Binary]';
      if (v instanceof Error) {
        const code = (v as { code?: unknown }).code;
        return walk(
          { type: v.name, message: v.message, ...(code !== undefined ? { code } : {}), stack: v.stack },
          depth,
        );
      }
      if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(v)) {
        if (item === undefined) continue;
        const name = fieldNameVerdict(key);
        const cleanKey = name.clean.length > maxChars ? scrubString(key) : name.clean;
        out[cleanKey] = name.secret ? redactedText : walk(item, depth + 1);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}

/**
 * `scrubSecrets` for a JSON-like tree the caller has just built and owns (a decision record): the
 * same redactions, made in place instead of on a copy, so writing a log line allocates little.
 * Objects and arrays are changed where they are; never pass data shared with anything else.
 */
export function scrubSecretsInPlace<T>(value: T, options: ScrubOptions = {}): T {
  const maxChars = options.maxStringChars ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? 16;
  const scrubString = (text: string) => {
    const clean = redactSecretText(text);
    return clean.length > maxChars ? `${clean.slice(0, maxChars)}…[truncated]` : clean;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v);
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v;
    if (depth >= maxDepth) return '[Truncated]';
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i], depth + 1);
      return v;
    }
    const record = v as Record<string, unknown>;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const item = record[key];
      if (item === undefined) {
        delete record[key];
        continue;
      }
      const name = fieldNameVerdict(key);
      const clean = name.secret ? redactedText : walk(item, depth + 1);
      const cleanKey = name.clean.length > maxChars ? scrubString(key) : name.clean;
      if (cleanKey !== key) {
        delete record[key];
        record[cleanKey] = clean;
      } else if (clean !== item) record[key] = clean;
    }
    return record;
  };
  return walk(value, 0) as T;
}
