import jsonLogic from 'json-logic-js';
import { describe, expect, it } from 'vitest';
import { compileJsonLogic, type LogicProblem } from './compile-json-logic.ts';

const data = [
  {
    model: 'auto',
    tags: ['code', 'py'],
    inputTokens: 900,
    temperature: 0,
    stream: true,
    metadata: { team: 'search' },
  },
  { model: 'fast', tags: [], inputTokens: 40000, temperature: 0.7, stream: false, metadata: {} },
  { model: 'strong', tags: ['x'], inputTokens: 0, stream: false, metadata: { team: 'ads' } },
];

const expressions: unknown[] = [
  { '>': [{ var: 'inputTokens' }, 32000] },
  { '==': [{ var: 'temperature' }, 0] },
  { '===': [{ var: 'temperature' }, 0] },
  { '!=': [{ var: 'model' }, 'auto'] },
  { in: ['code', { var: 'tags' }] },
  { in: ['ut', { var: 'model' }] },
  { and: [{ var: 'stream' }, { '<': [100, { var: 'inputTokens' }, 1000] }] },
  { or: [{ '==': [{ var: 'metadata.team' }, 'ads'] }, { '!': { var: 'tags' } }] },
  { '!!': [{ var: 'tags' }] },
  {
    if: [
      { '>': [{ var: 'inputTokens' }, 1000] },
      'big',
      { '>': [{ var: 'inputTokens' }, 10] },
      'medium',
      'small',
    ],
  },
  { '<=': [{ '+': [{ var: 'inputTokens' }, 100] }, 1000] },
  { '>=': [{ '*': [{ var: 'inputTokens' }, 2] }, { '-': [5000, 1] }] },
  { '==': [{ '%': [{ var: 'inputTokens' }, 2] }, 0] },
  { '==': [{ cat: [{ var: 'model' }, '-', { var: 'metadata.team' }] }, 'auto-search'] },
  { some: [{ var: 'tags' }, { '==': [{ var: '' }, 'py'] }] },
  { all: [{ var: 'tags' }, { in: [{ var: '' }, ['code', 'py']] }] },
  { none: [{ var: 'tags' }, { '==': [{ var: '' }, 'x'] }] },
  { '==': [{ var: ['user', 'anonymous'] }, 'anonymous'] },
  { max: [{ var: 'inputTokens' }, 5, 10] },
  { min: [{ var: 'inputTokens' }, 5, 10] },
  { '/': [{ var: 'inputTokens' }, 3] },
  { '-': [{ var: 'inputTokens' }] },
];

describe('compileJsonLogic', () => {
  it('agrees with json-logic-js on every supported operator', () => {
    for (const expr of expressions) {
      const problems: LogicProblem[] = [];
      const fn = compileJsonLogic(expr, problems);
      expect(problems).toEqual([]);
      for (const d of data)
        expect(fn(d), JSON.stringify(expr)).toEqual(jsonLogic.apply(expr as jsonLogic.RulesLogic, d));
    }
  });

  it('reports unknown facts and unknown operators with their path', () => {
    const problems: LogicProblem[] = [];
    compileJsonLogic({ and: [{ '>': [{ var: 'promptTokens' }, 1] }, { regex: ['a', 'b'] }] }, problems);
    expect(problems.map((p) => [p.kind, p.path.join('/')])).toEqual([
      ['fact', 'and/0/>/0/var'],
      ['operator', 'and/1/regex'],
    ]);
  });

  it('does not treat variables inside some/all/none as request facts', () => {
    const problems: LogicProblem[] = [];
    compileJsonLogic({ some: [{ var: 'tags' }, { '==': [{ var: '' }, 'a'] }] }, problems);
    expect(problems).toEqual([]);
  });
});
