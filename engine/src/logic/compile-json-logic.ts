import { factNames } from '../model/facts.ts';

/** A compiled JSON Logic expression: evaluates against a data object (the request facts). */
export type LogicFn = (data: unknown) => unknown;

/** A problem found while compiling JSON Logic: a bad operator or a variable that is not a fact. */
export interface LogicProblem {
  kind: 'operator' | 'fact' | 'shape';
  /** Path inside the expression, for locating the problem in the source. */
  path: (string | number)[];
  message: string;
}

/** JSON Logic's truthiness: like JavaScript's, except that an empty array is false. */
export function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

/** Operators the engine supports, with json-logic-js semantics. */
export const supportedOperators: readonly string[] = [
  'var',
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'and',
  'or',
  'if',
  '?:',
  'in',
  'cat',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'some',
  'all',
  'none',
];
const supported = new Set(supportedOperators);

function getPath(data: unknown, parts: readonly string[], fallback: unknown): unknown {
  let v = data;
  for (const p of parts) {
    if (v === null || v === undefined) return fallback;
    v = (v as Record<string, unknown>)[p];
  }
  return v === undefined ? fallback : v;
}

const num = (v: unknown): number => Number.parseFloat(v as string);

/** Closures that return a literal, with the literal, so operators can specialise on it. */
const constants = new WeakMap<LogicFn, unknown>();

function constant(value: unknown): LogicFn {
  const fn: LogicFn = () => value;
  constants.set(fn, value);
  return fn;
}

/**
 * Compiles a JSON Logic expression to a closure, checking every operator and every `var` against
 * the fixed set of request facts. Semantics follow json-logic-js (loose `==`, empty arrays falsy,
 * `and`/`or` return operands); the tests compare both on generated inputs.
 */
export function compileJsonLogic(expr: unknown, problems: LogicProblem[]): LogicFn {
  return compile(expr, [], problems, true);
}

function compile(
  expr: unknown,
  path: (string | number)[],
  problems: LogicProblem[],
  factScope: boolean,
): LogicFn {
  if (Array.isArray(expr)) {
    const items = expr.map((e, i) => compile(e, [...path, i], problems, factScope));
    return (d) => items.map((f) => f(d));
  }
  if (expr === null || typeof expr !== 'object') return constant(expr);
  const keys = Object.keys(expr);
  if (keys.length !== 1) {
    problems.push({
      kind: 'shape',
      path,
      message: `a JSON Logic operation has exactly one operator key, got ${keys.length === 0 ? 'none' : keys.map((k) => `\`${k}\``).join(', ')}`,
    });
    return () => null;
  }
  const op = keys[0]!;
  const rawArgs = (expr as Record<string, unknown>)[op];
  const argList = Array.isArray(rawArgs) ? rawArgs : [rawArgs];
  const here = [...path, op];
  if (!supported.has(op)) {
    problems.push({
      kind: 'operator',
      path: here,
      message: `unknown JSON Logic operator \`${op}\` (supported: ${supportedOperators.join(' ')})`,
    });
    return () => null;
  }
  if (op === 'var') {
    const name = argList[0];
    const fallback = argList[1];
    if (typeof name !== 'string' && typeof name !== 'number') {
      problems.push({ kind: 'shape', path: here, message: '`var` takes a fact name' });
      return () => null;
    }
    const key = String(name);
    if (factScope && key !== '') {
      const root = key.split('.')[0]!;
      if (!factNames.has(root))
        problems.push({
          kind: 'fact',
          path: here,
          message: `unknown fact \`${key}\` (facts: ${[...factNames].join(', ')})`,
        });
    }
    if (key === '') return (d) => d;
    const parts = key.split('.');
    const fb = fallback === undefined ? null : fallback;
    if (parts.length === 1) {
      // The common case, a top-level fact: one property read, no loop.
      return (d) => {
        const v = d === null || d === undefined ? undefined : (d as Record<string, unknown>)[key];
        return v === undefined ? fb : v;
      };
    }
    return (d) => getPath(d, parts, fb);
  }
  if (op === 'some' || op === 'all' || op === 'none') {
    const list = compile(argList[0], [...here, 0], problems, factScope);
    const pred = compile(argList[1], [...here, 1], problems, false);
    if (op === 'some')
      return (d) => {
        const a = list(d);
        return Array.isArray(a) && a.some((x) => truthy(pred(x)));
      };
    if (op === 'none')
      return (d) => {
        const a = list(d);
        return !(Array.isArray(a) && a.some((x) => truthy(pred(x))));
      };
    return (d) => {
      const a = list(d);
      return Array.isArray(a) && a.length > 0 && a.every((x) => truthy(pred(x)));
    };
  }
  const args = argList.map((a, i) => compile(a, [...here, i], problems, factScope));
  const [a = constant(undefined), b = constant(undefined), c] = args;
  // With a literal on the right (the usual `{ ">": [{ "var": … }, 32000] }`), compare against the value itself.
  const k = constants.get(b);
  if (c === undefined && constants.has(b)) {
    switch (op) {
      case '==':
        // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic `==` is loose equality by definition
        return (d) => a(d) == k;
      case '===':
        return (d) => a(d) === k;
      case '!=':
        // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic `!=` is loose inequality by definition
        return (d) => a(d) != k;
      case '!==':
        return (d) => a(d) !== k;
      case '>':
        return (d) => (a(d) as number) > (k as number);
      case '>=':
        return (d) => (a(d) as number) >= (k as number);
      case '<':
        return (d) => (a(d) as number) < (k as number);
      case '<=':
        return (d) => (a(d) as number) <= (k as number);
    }
  }
  if (args.length === 2 && (op === 'and' || op === 'or')) {
    return op === 'and'
      ? (d) => {
          const v = a(d);
          return truthy(v) ? b(d) : v;
        }
      : (d) => {
          const v = a(d);
          return truthy(v) ? v : b(d);
        };
  }
  switch (op) {
    case '==':
      // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic `==` is loose equality by definition
      return (d) => a(d) == b(d);
    case '===':
      return (d) => a(d) === b(d);
    case '!=':
      // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic `!=` is loose inequality by definition
      return (d) => a(d) != b(d);
    case '!==':
      return (d) => a(d) !== b(d);
    case '>':
      return (d) => (a(d) as number) > (b(d) as number);
    case '>=':
      return (d) => (a(d) as number) >= (b(d) as number);
    case '<':
      return c
        ? (d) => {
            const y = b(d) as number;
            return (a(d) as number) < y && y < (c(d) as number);
          }
        : (d) => (a(d) as number) < (b(d) as number);
    case '<=':
      return c
        ? (d) => {
            const y = b(d) as number;
            return (a(d) as number) <= y && y <= (c(d) as number);
          }
        : (d) => (a(d) as number) <= (b(d) as number);
    case '!':
      return (d) => !truthy(a(d));
    case '!!':
      return (d) => truthy(a(d));
    case 'and':
      return (d) => {
        let v: unknown;
        for (const f of args) {
          v = f(d);
          if (!truthy(v)) return v;
        }
        return v;
      };
    case 'or':
      return (d) => {
        let v: unknown;
        for (const f of args) {
          v = f(d);
          if (truthy(v)) return v;
        }
        return v;
      };
    case 'if':
    case '?:':
      return (d) => {
        let i = 0;
        for (; i < args.length - 1; i += 2) if (truthy(args[i]!(d))) return args[i + 1]!(d);
        return i === args.length - 1 ? args[i]!(d) : null;
      };
    case 'in':
      return (d) => {
        const hay = b(d) as { indexOf?: (x: unknown) => number } | null;
        return !!hay && typeof hay.indexOf === 'function' && hay.indexOf(a(d)) !== -1;
      };
    case 'cat':
      return (d) => args.map((f) => f(d)).join('');
    case '+':
      return (d) => args.reduce((s, f) => s + num(f(d)), 0);
    case '*':
      return (d) => args.reduce((s, f) => s * num(f(d)), 1);
    case '-':
      return args.length === 1 ? (d) => -(a(d) as number) : (d) => (a(d) as number) - (b(d) as number);
    case '/':
      return (d) => (a(d) as number) / (b(d) as number);
    case '%':
      return (d) => (a(d) as number) % (b(d) as number);
    case 'min':
      return (d) => Math.min(...(args.map((f) => f(d)) as number[]));
    default:
      return (d) => Math.max(...(args.map((f) => f(d)) as number[]));
  }
}
