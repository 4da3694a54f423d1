import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { policyJsonSchema, policyJsonSchemaId } from './policy-json-schema.ts';

const defaultPolicy = parse(
  readFileSync(new URL('../../../policies/default/policy.yaml', import.meta.url), 'utf8'),
);

function validator() {
  // strict: false because zod emits `type` next to `anyOf` for durations, which Ajv's strict mode flags.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(policyJsonSchema());
}

/** Paths of every property (at any depth, through maps, lists and unions) that has no description. */
function undescribedProperties(node: unknown, path: string, out: string[]): string[] {
  if (node === null || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  if (n.properties && typeof n.properties === 'object') {
    for (const [key, child] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
      const at = path ? `${path}.${key}` : key;
      if (typeof child.description !== 'string' || child.description.trim() === '') out.push(at);
      undescribedProperties(child, at, out);
    }
  }
  if (n.additionalProperties && typeof n.additionalProperties === 'object')
    undescribedProperties(n.additionalProperties, `${path}.<name>`, out);
  if (n.items) undescribedProperties(n.items, `${path}[]`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(n[k])) for (const alt of n[k]) undescribedProperties(alt, path, out);
  }
  return out;
}

describe('policyJsonSchema', () => {
  it('identifies itself so editors can bind policy files to it', () => {
    const schema = policyJsonSchema();
    expect(schema.$id).toBe(policyJsonSchemaId);
    expect(schema.title).toMatch(/switchyard/i);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts the demo policy', () => {
    const validate = validator();
    const ok = validate(defaultPolicy);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('treats fields with defaults as optional, as authors write them', () => {
    const validate = validator();
    const minimal = {
      apiVersion: 'switchyard/v1',
      name: 'tiny',
      providers: { sim: { type: 'simulator' } },
      models: { m: { deployments: [{ provider: 'sim', model: 'sim-small' }] } },
    };
    expect(validate(minimal)).toBe(true);
  });

  it('rejects misspelled fields and values outside the schema, as the editor must flag them', () => {
    const validate = validator();
    const typo = structuredClone(defaultPolicy);
    typo.routes[0].targett = typo.routes[0].target;
    expect(validate(typo)).toBe(false);
    const badEnum = structuredClone(defaultPolicy);
    badEnum.cache[0].mode = 'fuzzy';
    expect(validate(badEnum)).toBe(false);
    const inlineKey = structuredClone(defaultPolicy);
    inlineKey.providers.sim.apiKey = 'sk-live-literal';
    expect(validate(inlineKey)).toBe(false);
  });

  it('describes every property, so hovers and the reference explain each field', () => {
    expect(undescribedProperties(policyJsonSchema(), '', [])).toEqual([]);
  });
});
