import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type Denial,
  type DenialCode,
  factDocs,
  policyJsonSchema,
  supportedOperators,
} from '@switchyard/engine';

/** A JSON Schema node as `z.toJSONSchema` emits it (only the keywords the reference reads). */
interface SchemaNode {
  $id?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  minLength?: number;
}

/** One documented field of the policy. */
interface FieldRow {
  path: string;
  type: string;
  default: string;
  required: boolean;
  description: string;
}

/**
 * What each denial means and the HTTP status `decide()` gives it. Typed against `DenialCode`, so a
 * code added to or removed from the engine fails type-checking here until this table follows.
 */
const denialDocs = {
  tenant_not_allowed: {
    status: 403,
    meaning: 'the API key’s tenant is not named by the policy and the policy has no `default` tenant',
  },
  model_not_allowed: {
    status: 403,
    meaning: 'the route or requested model resolves to a logical model outside the tenant’s `allowModels`',
  },
  model_not_found: {
    status: 404,
    meaning: 'no route matched and the requested `model` is not a logical model of the policy',
  },
  unsupported_capability: {
    status: 400,
    meaning:
      'no deployment of the target model has a capability the request needs (tools, vision, json, embedding)',
  },
  context_length_exceeded: {
    status: 400,
    meaning: 'input tokens plus reserved output tokens exceed every capable deployment’s context window',
  },
  no_healthy_deployment: {
    status: 503,
    meaning: 'every capable deployment that fits has an open circuit breaker; `Retry-After` is set',
  },
  quota_exceeded: {
    status: 429,
    meaning:
      'a tenant or key quota (tokens, requests or USD) would be passed; retry when its calendar window resets',
  },
  rate_limit_exceeded: {
    status: 429,
    meaning: 'a token bucket is too low for this request; `Retry-After` says when it refills enough',
  },
} as const satisfies Record<DenialCode, { status: Denial['status']; meaning: string }>;

/** Keeps a table cell on one line and its pipes from splitting the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function json(value: unknown): string {
  return JSON.stringify(value).replace(/,/g, ', ').replace(/:/g, ': ');
}

/** A large number that only restates JavaScript's safe-integer range says nothing to a reader. */
function isMeaningfulBound(n: number | undefined): n is number {
  return n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER;
}

function typeOf(node: SchemaNode): string {
  if (Array.isArray(node.type)) return node.type.map((t) => typeOf({ ...node, type: t })).join(' or ');
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' or ');
  if (node.const !== undefined) return `\`${json(node.const)}\``;
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(', ');
  const bounds: string[] = [];
  if (isMeaningfulBound(node.exclusiveMinimum)) bounds.push(`> ${node.exclusiveMinimum}`);
  if (isMeaningfulBound(node.minimum)) bounds.push(`≥ ${node.minimum}`);
  if (isMeaningfulBound(node.maximum)) bounds.push(`≤ ${node.maximum}`);
  const ranged = (base: string) => (bounds.length > 0 ? `${base} ${bounds.join(', ')}` : base);
  switch (node.type) {
    case 'array': {
      const of = node.items ? typeOf(node.items) : 'any';
      const list =
        node.items?.type === 'object' && node.items.properties ? 'list of objects' : `list of ${of}`;
      return node.minItems ? `${list} (at least ${node.minItems})` : list;
    }
    case 'object':
      if (node.properties) return 'object';
      if (node.additionalProperties && typeof node.additionalProperties === 'object') {
        const value = node.additionalProperties;
        // An empty value schema is a free-form object (JSON Logic), not a map readers fill by name.
        if (Object.keys(value).length === 0) return 'object';
        return `map of name → ${value.properties ? 'object' : typeOf(value)}`;
      }
      return 'object';
    case 'integer':
    case 'number':
      return ranged(node.type);
    case 'string':
      return node.minLength ? `string (non-empty)` : 'string';
    case undefined:
      return 'any';
    default:
      return node.type;
  }
}

function defaultOf(node: SchemaNode): string {
  if (node.default === undefined) return '';
  // Section defaults restate their fields' defaults, which have rows of their own.
  if (typeof node.default === 'object' && node.default !== null && !Array.isArray(node.default)) {
    return Object.keys(node.default).length === 0 ? '`{}`' : 'fields’ defaults';
  }
  return `\`${json(node.default)}\``;
}

/** Every field under `node`, depth first, with paths like `models.<name>.deployments[].price.inPerMTok`. */
function collectFields(node: SchemaNode, path: string, rows: FieldRow[], seen: Set<string>): void {
  const alternatives = node.anyOf ?? [node];
  for (const alt of alternatives) {
    if (alt.properties) {
      for (const [key, child] of Object.entries(alt.properties)) {
        const at = path ? `${path}.${key}` : key;
        if (!seen.has(at)) {
          seen.add(at);
          rows.push({
            path: at,
            type: typeOf(child),
            default: defaultOf(child),
            required: alt.required?.includes(key) ?? false,
            description: child.description ?? '',
          });
        }
        collectFields(child, at, rows, seen);
      }
    }
    if (
      alt.additionalProperties &&
      typeof alt.additionalProperties === 'object' &&
      alt.additionalProperties.properties
    ) {
      collectFields(alt.additionalProperties, `${path}.<name>`, rows, seen);
    }
    if (alt.items?.properties || alt.items?.anyOf) collectFields(alt.items, `${path}[]`, rows, seen);
  }
}

function fieldTable(rows: readonly FieldRow[]): string[] {
  const out = ['| field | type | default | required | description |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    out.push(
      `| \`${cell(r.path)}\` | ${cell(r.type)} | ${cell(r.default)} | ${r.required ? 'yes' : 'no'} | ${cell(r.description)} |`,
    );
  }
  return out;
}

const semanticCacheRisks = [
  '## Risks of semantic caching',
  '',
  'A `mode: semantic` cache rule answers a request with the stored answer of an earlier request whose',
  'embedding is close enough. That saves money and latency, and it can be wrong in ways an exact cache',
  'never is:',
  '',
  '- **An answer for one question is served for another.** "Cancel my order 1234" and "cancel my order',
  '  1243", or "is X safe for children" and "is X safe for adults", embed close together. Similarity is',
  '  not equivalence; numbers, names, negations and dates are exactly what embeddings blur.',
  '- **Wrong answers spread.** One bad or stale answer in the cache is replayed to every caller whose',
  '  request lands near it, for as long as the entry lives, and nobody sees the upstream model fail.',
  '- **Context leaks.** An answer written for one caller (their data, their permissions) reaches another.',
  '',
  'Mitigations:',
  '',
  '- **Scope.** Every rule must set `scope: key` or `scope: tenant` (`SY_POLICY_CACHE_SCOPE_REQUIRED`);',
  '  the scope is always part of the cache key, so entries never cross tenants. Prefer `key`.',
  '- **A high similarity threshold.** Keep `similarity` at 0.95 or above; lower values trade',
  '  correctness for hit rate, and the trade is rarely visible in metrics.',
  '- **Only for rules that ask.** Semantic caching applies only to requests a rule matches: restrict it',
  '  with `match`/`when` to traffic where near-duplicates really share an answer (FAQ, support macros,',
  '  deterministic `temperature: 0` requests), never to everything.',
  '- **Parameters must match.** Only the conversation text is compared by similarity; the model, system',
  '  prompt, tools, response format and sampling parameters are part of the key and must be equal.',
  '- **A short TTL.** Hours, not days (`ttl: 1h`), so a wrong or stale answer ages out quickly.',
];

/**
 * Renders `docs/policy-reference.md` from the policy JSON Schema (itself generated from the zod
 * schema), the request facts, the JSON Logic operators and the denial codes. Deterministic: the same
 * engine always gives the same text, so a test can tell when the committed page is stale.
 */
export function renderPolicyReference(): string {
  const schema = policyJsonSchema() as SchemaNode;
  const lines: string[] = [
    '# Policy reference',
    '',
    '<!-- Generated by docs/gen/policy-reference.ts from the engine’s policy schema. Do not edit: run `npm run docs:policy`. -->',
    '',
    'A policy is a folder of YAML files (`*.yaml`, except `*.test.yaml`) merged into one document:',
    '`providers`, `models` and `tenants` entries may come from different files; `routes`, `experiments`',
    'and `cache` items are concatenated in file-name order; every other section may appear in one file',
    `only. Editors can validate files against the JSON Schema \`${String(schema.$id)}\` (\`policyJsonSchema()\`).`,
    '',
    'Paths below use `<name>` for an entry of a map and `[]` for an item of a list. Fields with a',
    'default are optional. Durations are written `500ms`, `30s`, `10m`, `1h` or `7d`.',
    '',
    '## Sections',
    '',
    '| section | type | required | description |',
    '| --- | --- | --- | --- |',
  ];
  const topLevel = Object.entries(schema.properties ?? {});
  // Scalar sections (`apiVersion`, `name`) are fully described by their row here; the rest get a table.
  const hasFields = (node: SchemaNode) => node.type === 'object' || node.type === 'array';
  for (const [key, node] of topLevel) {
    const title = hasFields(node) ? `[\`${key}\`](#${key.toLowerCase()})` : `\`${key}\``;
    lines.push(
      `| ${title} | ${cell(typeOf(node))} | ${schema.required?.includes(key) ? 'yes' : 'no'} | ${cell(node.description ?? '')} |`,
    );
  }
  for (const [key, node] of topLevel.filter(([, node]) => hasFields(node))) {
    const required = schema.required?.includes(key) ?? false;
    const rows: FieldRow[] = [
      {
        path: key,
        type: typeOf(node),
        default: defaultOf(node),
        required,
        description: node.description ?? '',
      },
    ];
    collectFields(node, key, rows, new Set());
    lines.push('', `## ${key}`, '', ...fieldTable(rows));
  }

  lines.push(
    '',
    '## Request facts',
    '',
    'What `when` (JSON Logic) can read with `{ "var": "<fact>" }`; `match` reads the same facts',
    'declaratively. Any other variable is refused at compile time (`SY_POLICY_UNKNOWN_FACT`).',
    '',
    '| fact | type | description |',
    '| --- | --- | --- |',
    ...factDocs.map((f) => `| \`${f.name}\` | ${f.type} | ${cell(f.description)} |`),
    '',
    '## JSON Logic operators',
    '',
    'Semantics follow json-logic-js. Any other operator is refused at compile time',
    '(`SY_POLICY_UNKNOWN_OPERATOR`).',
    '',
    supportedOperators.map((op) => `\`${op}\``).join(' '),
    '',
    '## Denial codes',
    '',
    'When `decide()` refuses a request it returns one of these codes; the server sends it as the',
    'OpenAI-shaped error `code` with the status shown.',
    '',
    '| code | status | meaning |',
    '| --- | --- | --- |',
    ...Object.entries(denialDocs).map(([code, d]) => `| \`${code}\` | ${d.status} | ${cell(d.meaning)} |`),
    '',
    ...semanticCacheRisks,
    '',
  );
  return lines.join('\n');
}

/** Where the rendered reference is committed. */
export const policyReferencePath = fileURLToPath(new URL('../policy-reference.md', import.meta.url));

if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv.includes('--write')
) {
  writeFileSync(policyReferencePath, renderPolicyReference());
  console.log(`wrote ${policyReferencePath}`);
}
