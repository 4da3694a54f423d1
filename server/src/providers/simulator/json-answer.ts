import type { ChatRequest } from '../chat-types.ts';
import { hashText } from './deterministic-hash.ts';

/** A JSON answer and how well the simulated model did. */
export interface JsonAnswer {
  text: string;
  /** Whether `text` parses. */
  valid: boolean;
  /** Whether every property the schema requires is there. */
  complete: boolean;
  /** Whether the task was beyond the tier (the answer is degraded, confidence is low). */
  struggled: boolean;
}

/** A JSON Schema, as loosely as requests carry them. */
export type JsonSchema = Record<string, unknown>;

/** What a value is filled from: the text to extract from, and which of its entities and numbers are used up. */
export interface FillContext {
  /** Whether values come from `source` (tier ≥ 3, or tool arguments) or are typed placeholders. */
  extract: boolean;
  source: string;
  entities: string[];
  numbers: string[];
  used: { entities: number; numbers: number };
  salt: number;
  /** The schema root, for local `$ref`s. */
  root: JsonSchema;
}

const extraction = /\bextract\s+(?:the\s+)?(.+?)\s+from\s*:?\s*([\s\S]*)$/i;
const entityKey =
  /name|person|author|city|country|place|location|company|organi[sz]ation|brand|team|user|customer|capital|destination|origin/i;
const numericKey =
  /age|count|number|year|price|amount|quantity|total|score|rating|size|height|weight|salary|population/i;
/** Capitalised only because they start a sentence: never taken for names. */
const sentenceStarters = new Set(
  'A An The This That These Those It Its In On At From For To Of By With And But Or If Is Are Was Were Do Does Did Can Could Would Should Will Please Extract Answer Return Give Use Call Get Find Show Tell Check Look Search Book Send Create List Write Ask Make Let How Why When Where Who Which What I My We Our You Your He She They Hi Hello Dear'.split(
    ' ',
  ),
);

/**
 * Answers a `json_object` or `json_schema` request. With a schema, every declared property is
 * filled with a typed value; for extraction prompts ("Extract name and age from: Alice is 30") the
 * values come from the text when the tier is ≥ 3 and are typed placeholders below. A task's
 * difficulty is its leaf fields + 2 per nesting level below the top; a tier handles 2 × tier (tier
 * 5: any). Beyond that, tiers 1–2 answer truncated, invalid JSON and tiers 3–4 leave out the last
 * required property.
 */
export function answerAsJson(
  format: NonNullable<ChatRequest['response_format']>,
  prompt: string,
  tier: number,
  salt: number,
  fallbackText: string,
): JsonAnswer {
  const extracted = extraction.exec(prompt);
  const source = extracted?.[2]?.trim() || prompt;
  let schema: JsonSchema | undefined = format.type === 'json_schema' ? format.json_schema.schema : undefined;
  if (!schema && extracted) schema = schemaForFields(extracted[1] ?? '');
  if (!schema) {
    const text = JSON.stringify({ answer: fallbackText });
    return { text, valid: true, complete: true, struggled: false };
  }
  const context = createFillContext(schema, source, tier >= 3, salt);
  const value = fillJsonValue(schema, '', context);
  const difficulty = schemaDifficulty(schema, schema, 0);
  const capacity = tier >= 5 ? Number.POSITIVE_INFINITY : 2 * tier;
  if (difficulty <= capacity)
    return { text: JSON.stringify(value), valid: true, complete: true, struggled: false };
  const text = JSON.stringify(value);
  if (tier <= 2)
    return {
      text: text.slice(0, Math.max(1, Math.floor(text.length * 0.6))),
      valid: false,
      complete: false,
      struggled: true,
    };
  return {
    text: JSON.stringify(withoutLastRequired(value, schema)),
    valid: true,
    complete: false,
    struggled: true,
  };
}

/** A fill context over `source`: its capitalised entities and numbers, consumed in order. */
export function createFillContext(
  root: JsonSchema,
  source: string,
  extract: boolean,
  salt: number,
): FillContext {
  const entities = [...source.matchAll(/\b\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*)*/gu)]
    .map((match) => match[0])
    .map((entity) =>
      entity
        .split(/\s+/)
        .filter((word, index) => index > 0 || !sentenceStarters.has(word))
        .join(' '),
    )
    .filter((entity) => entity.length > 0);
  const numbers = [...source.matchAll(/-?\d+(?:\.\d+)?/g)].map((match) => match[0]);
  return { extract, source, entities, numbers, used: { entities: 0, numbers: 0 }, salt, root };
}

/** Fills a value for `schema` (the property `key`), from the context's source when it extracts. */
export function fillJsonValue(schema: JsonSchema, key: string, context: FillContext): unknown {
  const resolved = resolveSchema(schema, context.root);
  if ('const' in resolved) return resolved.const;
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0) {
    const named = context.extract
      ? resolved.enum.find(
          (option) =>
            typeof option === 'string' && context.source.toLowerCase().includes(option.toLowerCase()),
        )
      : undefined;
    return named ?? resolved.enum[0];
  }
  const branches = (resolved.anyOf ?? resolved.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(branches) && branches.length > 0) {
    const branch =
      branches.find((candidate) => resolveSchema(candidate, context.root).type !== 'null') ?? branches[0]!;
    return fillJsonValue(branch, key, context);
  }
  switch (typeOf(resolved)) {
    case 'object': {
      const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, fillJsonValue(property, name, context)]),
      );
    }
    case 'array': {
      const items = (resolved.items ?? { type: 'string' }) as JsonSchema;
      const count = Math.max(1, typeof resolved.minItems === 'number' ? resolved.minItems : 1);
      return Array.from({ length: count }, () => fillJsonValue(items, singular(key), context));
    }
    case 'integer':
    case 'number':
      return numberFor(resolved, key, context);
    case 'boolean':
      return booleanFor(key, context);
    case 'null':
      return null;
    default:
      return stringFor(resolved, key, context);
  }
}

function stringFor(schema: JsonSchema, key: string, context: FillContext): string {
  const format = typeof schema.format === 'string' ? schema.format : '';
  const { source } = context;
  if (format === 'email' || /e-?mail/i.test(key))
    return (context.extract && /[\w.+-]+@[\w-]+\.[\w.]+/.exec(source)?.[0]) || 'someone@example.com';
  if (format === 'date' || /date|day|birthday/i.test(key))
    return (context.extract && /\d{4}-\d{2}-\d{2}/.exec(source)?.[0]) || '2024-01-01';
  if (format === 'date-time') return '2024-01-01T00:00:00Z';
  if (format === 'uri' || format === 'url' || /url|link|website/i.test(key))
    return (context.extract && /https?:\/\/\S+/.exec(source)?.[0]) || 'https://example.com';
  if (format === 'uuid') return uuidFrom(hashText(context.salt, key));
  if (!context.extract) return entityKey.test(key) ? 'Unknown' : 'example';
  const stated = new RegExp(`\\b${escapeRegExp(key.replace(/_/g, ' '))}\\s*(?:is|:|=)\\s*([^,.;]+)`, 'i')
    .exec(source)?.[1]
    ?.trim();
  if (stated) return stated;
  if (entityKey.test(key) || key === '') {
    const entity = context.entities[context.used.entities];
    if (entity) {
      context.used.entities++;
      return entity;
    }
  }
  if (
    /query|search|question|text|prompt|input|message|content|summary|description|topic|keywords?/i.test(key)
  )
    return source.slice(0, 200);
  const entity = context.entities[context.used.entities];
  if (entity) {
    context.used.entities++;
    return entity;
  }
  return 'unknown';
}

function numberFor(schema: JsonSchema, key: string, context: FillContext): number {
  let value: number;
  const taken = context.extract ? context.numbers[context.used.numbers] : undefined;
  if (taken !== undefined) {
    context.used.numbers++;
    value = Number(taken);
  } else value = 1 + (hashText(context.salt, key) % 99);
  if (typeOf(schema) === 'integer') value = Math.round(value);
  if (typeof schema.minimum === 'number') value = Math.max(schema.minimum, value);
  if (typeof schema.maximum === 'number') value = Math.min(schema.maximum, value);
  return value;
}

function booleanFor(key: string, context: FillContext): boolean {
  if (!context.extract) return (hashText(context.salt, key) & 1) === 1;
  const word = escapeRegExp(key.replace(/^(is|has)_/, '').replace(/_/g, ' '));
  if (new RegExp(`\\b(?:not|no|never|isn't|doesn't)\\s+(?:\\w+\\s+)?${word}`, 'i').test(context.source))
    return false;
  return new RegExp(`\\b${word}`, 'i').test(context.source);
}

/** Fields named in an extraction prompt ("name, age and city") as an object schema; numeric-sounding keys are numbers. */
function schemaForFields(fields: string): JsonSchema {
  const keys = fields
    .split(/\s*(?:,|\band\b|&)\s*/i)
    .map((field) =>
      field
        .trim()
        .replace(/^(?:the|his|her|their|its)\s+/i, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}]+/gu, '_'),
    )
    .filter((key) => key.length > 0);
  const properties = Object.fromEntries(
    keys.map((key) => [key, { type: numericKey.test(key) ? 'number' : 'string' }]),
  );
  return { type: 'object', properties, required: keys };
}

/** Leaf fields + 2 for every nesting level below the top. */
function schemaDifficulty(schema: JsonSchema, root: JsonSchema, depth: number): number {
  const resolved = resolveSchema(schema, root);
  const kind = typeOf(resolved);
  if (kind === 'object') {
    const properties = Object.values((resolved.properties ?? {}) as Record<string, JsonSchema>);
    return (
      (depth > 0 ? 2 : 0) +
      properties.reduce((sum, property) => sum + schemaDifficulty(property, root, depth + 1), 0)
    );
  }
  if (kind === 'array')
    return (depth > 0 ? 2 : 0) + schemaDifficulty((resolved.items ?? {}) as JsonSchema, root, depth + 1);
  return 1;
}

function withoutLastRequired(value: unknown, schema: JsonSchema): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(value);
  const dropped = required.at(-1);
  return Object.fromEntries(Object.entries(value).filter(([name]) => name !== dropped));
}

function resolveSchema(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split('/'))
    target = (target as Record<string, unknown> | undefined)?.[part];
  return typeof target === 'object' && target !== null ? resolveSchema(target as JsonSchema, root) : {};
}

function typeOf(schema: JsonSchema): string {
  const type = Array.isArray(schema.type)
    ? schema.type.find((candidate) => candidate !== 'null')
    : schema.type;
  if (typeof type === 'string') return type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return 'string';
}

function singular(key: string): string {
  return key.endsWith('s') ? key.slice(0, -1) : key;
}

function uuidFrom(hash: number): string {
  const hex = (hash.toString(16).padStart(8, '0') + hashText(hash).toString(16).padStart(8, '0')).repeat(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
