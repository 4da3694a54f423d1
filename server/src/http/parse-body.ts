import type { z } from 'zod';
import { HttpError, httpError } from '../errors.ts';

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `\`${value.length > 40 ? `${value.slice(0, 40)}…` : value}\``;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} \`${String(value)}\``;
}

/** One line for a schema issue, in the form "expected `x` …, got `y`". */
function explain(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return input === undefined ? 'is required' : `expected ${issue.expected}, got ${describe(input)}`;
    case 'invalid_union':
      if ('options' in issue && Array.isArray(issue.options)) {
        return `expected one of ${(issue.options as unknown[]).map((o) => `\`${String(o)}\``).join(', ')}, got ${describe(input)}`;
      }
      return `expected ${issue.message.replace(/^Invalid input:?\s*/i, '') || 'a different shape'}, got ${describe(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => `\`${String(v)}\``).join(', ')}, got ${describe(input)}`;
    case 'too_small':
      if (issue.origin === 'array' && Number(issue.minimum) === 1) return 'must not be empty';
      return `${issue.message.replace(/^Too small:\s*/i, '')}, got ${describe(input)}`;
    case 'too_big':
      return `${issue.message.replace(/^Too big:\s*/i, '')}, got ${Array.isArray(input) ? `${input.length} items` : describe(input)}`;
    case 'unrecognized_keys':
      return `unknown field(s) ${issue.keys.map((k) => `\`${k}\``).join(', ')}`;
    default:
      return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
  }
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Validates a request body: the parsed value, or a 400 `HttpError` whose `param` is the dotted path
 * of the first problem (`messages.0.role`) and whose message says what was expected and what came.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw httpError('invalid_json', { detail: `expected a JSON object, got ${describe(body)}` });
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.');
  const detail = explain(issue, valueAt(body, issue.path));
  if (param === '')
    return fail(new HttpError(`invalid request: ${detail}`, 400, 'invalid_request_error', 'invalid_request'));
  return fail(httpError('invalid_request', { param, detail }, { param }));
}

function fail(err: HttpError): never {
  throw err;
}
