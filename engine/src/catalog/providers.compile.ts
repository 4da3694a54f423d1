import type { CompileContext } from '../pipeline/compile-context.ts';
import { isPlainObject } from '../pipeline/parse.ts';
import { envRefGlobal, envRefPattern, looksLikeSecret } from './secret-ref.ts';

function walkStrings(
  value: unknown,
  path: PropertyKey[],
  visit: (s: string, path: PropertyKey[]) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walkStrings(v, [...path, i], visit);
  } else if (isPlainObject(value))
    for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], visit);
}

/**
 * Secrets and environment references: no literal that looks like a credential anywhere in the
 * policy (the schema already forces `apiKey` to be a reference), no credentials in URLs, well-formed
 * `${env:…}` references, and a warning for each referenced variable that is not set here.
 */
export function checkSecrets(ctx: CompileContext): void {
  walkStrings(ctx.spec, [], (s, path) => {
    const refs = [...s.matchAll(envRefGlobal)];
    if (s.includes('${') && refs.length === 0 && /\$\{env/.test(s)) {
      ctx.error(
        'SY_POLICY_BAD_REFERENCE',
        path,
        `malformed environment reference \`${s}\`; write \`\${env:NAME}\``,
      );
    }
    if (refs.length === 0 && looksLikeSecret(s)) {
      ctx.error(
        'SY_POLICY_INLINE_SECRET',
        path,
        'this value looks like a secret written inline; move it to an environment variable and write `${env:NAME}`',
      );
    }
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+:[^/@\s]+@/i.test(s)) {
      ctx.error(
        'SY_POLICY_INLINE_SECRET',
        path,
        'credentials in a URL; pass them as `${env:NAME}` in `apiKey` or `headers`',
      );
    }
    if (ctx.definedEnv) {
      for (const m of refs) {
        if (!ctx.definedEnv.has(m[1]!))
          ctx.warn(
            'SY_POLICY_ENV_UNSET',
            path,
            `\`\${env:${m[1]}}\` is not set here; requests to this provider will fail until it is`,
          );
      }
    }
  });
  for (const [name, p] of Object.entries(ctx.spec.providers)) {
    if ((p.type === 'openai' || p.type === 'anthropic' || p.type === 'gemini') && !p.apiKey) {
      ctx.error(
        'SY_POLICY_MISSING_FIELD',
        ['providers', name],
        `provider \`${name}\` of type \`${p.type}\` needs \`apiKey: \${env:NAME}\``,
      );
    }
    if (p.type === 'openai-compatible' && !p.baseUrl) {
      ctx.error(
        'SY_POLICY_MISSING_FIELD',
        ['providers', name],
        `provider \`${name}\` of type \`openai-compatible\` needs a \`baseUrl\``,
      );
    }
    if (
      p.baseUrl &&
      !envRefPattern.test(p.baseUrl) &&
      !/^https?:\/\//.test(p.baseUrl.replace(envRefGlobal, 'x'))
    ) {
      ctx.error(
        'SY_POLICY_INVALID_VALUE',
        ['providers', name, 'baseUrl'],
        `expected \`baseUrl\` to be an http(s) URL, got \`${p.baseUrl}\``,
      );
    }
  }
}
