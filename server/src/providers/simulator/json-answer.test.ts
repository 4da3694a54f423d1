import { describe, expect, it } from 'vitest';
import { answerAsJson } from './json-answer.ts';

const asSchema = (schema: Record<string, unknown>) => ({
  type: 'json_schema' as const,
  json_schema: { name: 'answer', schema },
});
const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    city: { type: 'string' },
    email: { type: 'string', format: 'email' },
    address: {
      type: 'object',
      properties: { street: { type: 'string' }, zip: { type: 'string' } },
      required: ['street', 'zip'],
    },
  },
  required: ['name', 'age', 'city', 'email', 'address'],
};
const prompt = 'Extract the person: Bob Smith, 41, lives in New York, bob@example.org';

describe('answerAsJson', () => {
  it('extracts the fields an extraction prompt names from tier 3 on', () => {
    const answer = answerAsJson({ type: 'json_object' }, 'Extract name and age from: Alice is 30', 3, 1, '');
    expect(JSON.parse(answer.text)).toEqual({ name: 'Alice', age: 30 });
    expect(answer).toMatchObject({ valid: true, complete: true, struggled: false });
  });

  it('fills typed placeholders below tier 3 (valid json, wrong values)', () => {
    const answer = answerAsJson({ type: 'json_object' }, 'Extract name and age from: Alice is 30', 1, 1, '');
    const value = JSON.parse(answer.text);
    expect(Object.keys(value)).toEqual(['name', 'age']);
    expect(value.name).not.toBe('Alice');
    expect(typeof value.age).toBe('number');
  });

  it('fills a nested schema from the text when the tier can handle it', () => {
    const answer = answerAsJson(asSchema(person), prompt, 4, 1, '');
    expect(JSON.parse(answer.text)).toEqual({
      name: 'Bob Smith',
      age: 41,
      city: 'New York',
      email: 'bob@example.org',
      address: { street: 'unknown', zip: 'unknown' },
    });
    expect(answer.complete).toBe(true);
  });

  it('leaves out the last required property at tiers 3–4 when the schema is too hard', () => {
    const answer = answerAsJson(asSchema(person), prompt, 3, 1, '');
    expect(answer).toMatchObject({ valid: true, complete: false, struggled: true });
    expect(JSON.parse(answer.text)).not.toHaveProperty('address');
  });

  it('answers invalid json at tiers 1–2 when the schema is too hard', () => {
    const answer = answerAsJson(asSchema(person), prompt, 2, 1, '');
    expect(answer).toMatchObject({ valid: false, struggled: true });
    expect(() => JSON.parse(answer.text)).toThrow();
  });

  it('honours enum, const, $ref, nullable types, bounds and string formats', () => {
    const schema = {
      type: 'object',
      $defs: { level: { type: 'string', enum: ['low', 'medium', 'high'] } },
      properties: {
        level: { $ref: '#/$defs/level' },
        kind: { const: 'ticket' },
        note: { type: ['string', 'null'] },
        score: { type: 'integer', minimum: 1, maximum: 5 },
        due: { type: 'string', format: 'date' },
      },
    };
    const value = JSON.parse(
      answerAsJson(asSchema(schema), 'Triage: priority is high, score 9, due 2025-03-01', 5, 1, '').text,
    );
    expect(value).toEqual({
      level: 'high',
      kind: 'ticket',
      note: expect.any(String),
      score: 5,
      due: '2025-03-01',
    });
  });

  it('wraps a plain answer as {"answer": …} for json_object without fields to extract', () => {
    expect(
      JSON.parse(answerAsJson({ type: 'json_object' }, 'Tell me a joke', 1, 1, 'Why not.').text),
    ).toEqual({ answer: 'Why not.' });
  });
});
