import { describe, expect, it } from 'vitest';
import { seededEnv } from '../model/env.ts';
import { compilePolicy } from '../pipeline/compile.ts';
import { factsWithDefaults } from '../testing/facts-with-defaults.ts';
import { decisionImpact, diffPolicies } from './diff-policies.ts';

const base = `apiVersion: switchyard/v1
name: t
providers: { sim: { type: simulator } }
models:
  fast: { deployments: [{ id: a, provider: sim, model: sim-small, price: { inPerMTok: 1, outPerMTok: 2 } }] }
  strong: { deployments: [{ id: l, provider: sim, model: sim-large }] }
routes:
  - { id: code, match: { model: auto, tags: [code] }, target: strong }
  - { id: other, match: { model: other }, target: strong }
  - { id: auto, match: { model: auto }, target: fast }
`;
const compile = (text: string) => {
  const r = compilePolicy([{ path: 'p.yaml', text }]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
};

describe('diffPolicies', () => {
  it('finds nothing when only formatting and comments differ', () => {
    expect(
      diffPolicies(
        compile(base),
        compile(
          `# comment\n${base.replace('{ sim: { type: simulator } }', '\n  sim:\n    type: simulator')}`,
        ),
      ),
    ).toEqual([]);
  });

  it('names changed prices, targets, added routes and reordering by id', () => {
    const after = base
      .replace('outPerMTok: 2', 'outPerMTok: 3')
      .replace('target: fast', 'target: strong')
      .replace(
        / {2}- \{ id: code(.*)\n {2}- \{ id: other(.*)\n/,
        '  - { id: long, match: { model: long }, target: strong }\n  - { id: other$2\n  - { id: code$1\n',
      );
    const changes = diffPolicies(compile(base), compile(after)).map((c) => `${c.kind} ${c.path}`);
    expect(changes).toEqual([
      'changed models.fast.deployments[a].price.outPerMTok',
      'changed routes[auto].target',
      'added routes[long]',
      'moved routes order',
    ]);
  });
});

describe('decisionImpact', () => {
  it('lists the sample requests whose decision changes, and how', () => {
    const after = compile(base.replace('target: fast', 'target: strong'));
    const samples = [
      factsWithDefaults({ model: 'auto' }),
      factsWithDefaults({ model: 'auto', tags: ['code'] }),
    ];
    const impact = decisionImpact(compile(base), after, samples, () => seededEnv(0, 1));
    expect(impact.map((i) => i.changed)).toEqual([true, false]);
    expect(impact[0]!.changes).toContain('model: fast → strong');
  });
});
