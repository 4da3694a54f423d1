import { z } from 'zod';
import { policySchema } from './policy.schema.ts';

/** The `$id` of the policy JSON Schema: editors and CI refer to the schema by it. */
export const policyJsonSchemaId = 'urn:switchyard:policy:v1';

/**
 * The JSON Schema (draft 2020-12) of a policy file as written: fields with defaults are optional.
 * Generated from `policySchema`, so the studio's editor and `docs/policy-reference.md` can never
 * drift from what the engine validates. Checks zod cannot express in JSON Schema (refinements such as
 * "a quota caps exactly one unit") are left to `compilePolicy`.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' });
  return { $id: policyJsonSchemaId, title: 'Switchyard policy (switchyard/v1)', ...schema };
}
