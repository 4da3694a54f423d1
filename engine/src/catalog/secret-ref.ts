/** Matches a whole-value environment reference: `${env:NAME}`. */
export const envRefPattern = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Finds every `${env:NAME}` inside a string (for interpolated values such as base URLs). */
export const envRefGlobal = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

const secretShapes: readonly RegExp[] = [
  /^sk-[A-Za-z0-9_-]{16,}$/, // OpenAI, Anthropic (sk-ant-…), Switchyard keys
  /^AIza[0-9A-Za-z_-]{30,}$/, // Google API keys
  /^(ghp|gho|xox[bap])_?[A-Za-z0-9_-]{16,}$/,
  /^Bearer\s+\S{16,}$/i,
];

/**
 * Whether a literal value looks like a credential. Anything that is not an `${env:…}` reference in a
 * secret-bearing field is refused anyway; this catches secrets pasted into other string fields.
 */
export function looksLikeSecret(value: string): boolean {
  if (secretShapes.some((re) => re.test(value))) return true;
  // Long unbroken high-entropy tokens (hex or base64-ish) are almost always keys.
  return /^[A-Za-z0-9+/_-]{40,}={0,2}$/.test(value) && /\d/.test(value) && /[a-zA-Z]/.test(value);
}
