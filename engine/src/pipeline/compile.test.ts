import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile.ts';

const base = `apiVersion: switchyard/v1
name: t
providers:
  sim: { type: simulator }
models:
  fast:
    deployments: [{ provider: sim, model: sim-small, price: { inPerMTok: 1, outPerMTok: 2 } }]
  strong:
    deployments: [{ provider: sim, model: sim-large }]
routes:
  - id: auto
    match: { model: auto }
    target: fast
`;

function errorsOf(text: string, path = 'p.yaml') {
  const r = compilePolicy([{ path, text }]);
  return r.ok ? [] : r.errors;
}

describe('compilePolicy', () => {
  it('compiles a valid policy to an immutable, versioned policy', () => {
    const r = compilePolicy([{ path: 'p.yaml', text: base }]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.policy.id).toMatch(/^t@[0-9a-f]{12}$/);
    expect(Object.isFrozen(r.policy.spec.models)).toBe(true);
    expect(() => {
      (r.policy.spec.routes as unknown as unknown[]).push({});
    }).toThrow();
  });

  it('reports every error in one pass, each with file, line, column and code', () => {
    const text = `apiVersion: switchyard/v1
name: t
providers:
  sim: { type: simulator, colour: red }
models:
  fast:
    deployments: [{ provider: nope, model: m }]
routes:
  - id: a
    target: missing
  - id: b
    target: fast
    escalate: [{ to: ghost, on: [error] }]
cache:
  - { id: c, ttl: 1h }
`;
    const errors = errorsOf(text);
    const got = errors.map((e) => `${e.line}:${e.col} ${e.code}`);
    expect(got).toEqual([
      '4:27 SY_POLICY_UNKNOWN_FIELD',
      '7:31 SY_POLICY_UNKNOWN_PROVIDER',
      '10:13 SY_POLICY_UNKNOWN_MODEL',
      '11:9 SY_POLICY_UNREACHABLE_ROUTE',
      '13:22 SY_POLICY_UNKNOWN_MODEL',
      '15:5 SY_POLICY_CACHE_SCOPE_REQUIRED',
    ]);
    expect(errors.every((e) => e.file === 'p.yaml' && e.severity === 'error')).toBe(true);
  });

  it('points a YAML syntax error at its line', () => {
    const errors = errorsOf('apiVersion: switchyard/v1\nname: t\n  providers: x: y\nmodels: {}\n');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'SY_POLICY_YAML_SYNTAX')).toBe(true);
    expect(errors[0]).toMatchObject({ line: 2, col: 7 });
  });

  it('reports a missing required section and a wrong type with what was expected', () => {
    const errors = errorsOf('apiVersion: switchyard/v1\nname: t\nproviders: {}\nmodels: 5\n');
    expect(errors.map((e) => e.code)).toContain('SY_POLICY_INVALID_VALUE');
    expect(errors.find((e) => e.line === 4)?.message).toMatch(/expected `models` to be a mapping/);
    expect(errorsOf('apiVersion: switchyard/v1\nname: t\nproviders: {}\n').map((e) => e.code)).toContain(
      'SY_POLICY_MISSING_FIELD',
    );
  });

  it('refuses inline secrets anywhere and accepts env references', () => {
    const inline = base.replace(
      'sim: { type: simulator }',
      'sim: { type: simulator }\n  oa: { type: openai, apiKey: sk-abcdefghijklmnopqrstuvwx123 }',
    );
    expect(errorsOf(inline).map((e) => e.code)).toContain('SY_POLICY_INLINE_SECRET');
    const header = base.replace(
      'sim: { type: simulator }',
      'sim: { type: simulator }\n  oa: { type: openai-compatible, baseUrl: "http://x", headers: { x-key: AIzaSyA1234567890abcdefghijklmnopqrstuv } }',
    );
    expect(errorsOf(header).map((e) => e.code)).toContain('SY_POLICY_INLINE_SECRET');
    const url = base.replace(
      'sim: { type: simulator }',
      'sim: { type: simulator }\n  v: { type: openai-compatible, baseUrl: "https://user:pass@vllm.internal/v1" }',
    );
    expect(errorsOf(url).map((e) => e.code)).toContain('SY_POLICY_INLINE_SECRET');
    const ref = base.replace(
      'sim: { type: simulator }',
      'sim: { type: simulator }\n  oa: { type: openai, apiKey: "${env:OPENAI_API_KEY}" }',
    );
    expect(errorsOf(ref)).toEqual([]);
  });

  it('warns, without failing, about env references that are not set', () => {
    const ref = base.replace(
      'sim: { type: simulator }',
      'sim: { type: simulator }\n  oa: { type: openai, apiKey: "${env:OPENAI_API_KEY}" }',
    );
    const r = compilePolicy([{ path: 'p.yaml', text: ref }], { definedEnv: new Set(['HOME']) });
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.code)).toEqual(['SY_POLICY_ENV_UNSET']);
    expect(
      compilePolicy([{ path: 'p.yaml', text: ref }], { definedEnv: new Set(['OPENAI_API_KEY']) }).warnings,
    ).toEqual([]);
  });

  it('stops at the error limit and says so', () => {
    const routes = Array.from(
      { length: 30 },
      (_, i) => `  - { id: r${i}, match: { model: m${i} }, target: nope${i} }`,
    ).join('\n');
    const r = compilePolicy([{ path: 'p.yaml', text: `${base.split('routes:')[0]}routes:\n${routes}\n` }], {
      maxErrors: 10,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(11);
    expect(r.errors[10]?.code).toBe('SY_POLICY_TOO_MANY_ERRORS');
  });

  it('detects a narrower route placed after a broader one as unreachable, but not the reverse', () => {
    const broadFirst = `${base}  - id: code\n    match: { model: auto, tags: [code] }\n    target: strong\n`;
    expect(errorsOf(broadFirst).map((e) => e.code)).toEqual(['SY_POLICY_UNREACHABLE_ROUTE']);
    const narrowFirst = base.replace(
      'routes:\n',
      'routes:\n  - id: code\n    match: { model: auto, tags: [code] }\n    target: strong\n',
    );
    expect(errorsOf(narrowFirst)).toEqual([]);
  });

  it('rejects rollout steps that do not increase to 100', () => {
    expect(errorsOf(`${base}rollout: { steps: [5, 1, 100] }\n`).map((e) => e.code)).toEqual([
      'SY_POLICY_BAD_ROLLOUT',
    ]);
    expect(errorsOf(`${base}rollout: { steps: [1, 50] }\n`).map((e) => e.code)).toEqual([
      'SY_POLICY_BAD_ROLLOUT',
    ]);
  });

  it('requires a target or an experiment on each route and a declared experiment', () => {
    const text = `${base}  - { id: x, match: { model: x } }\n  - { id: y, match: { model: y }, experiment: nope }\n`;
    expect(errorsOf(text).map((e) => e.code)).toEqual([
      'SY_POLICY_MISSING_FIELD',
      'SY_POLICY_UNKNOWN_EXPERIMENT',
    ]);
  });

  it('requires an embedding-capable model for semantic cache rules', () => {
    const text = `${base}cache:\n  - { id: s, mode: semantic, ttl: 1h, scope: tenant, embeddingModel: fast }\n`;
    expect(errorsOf(text).map((e) => e.code)).toEqual(['SY_POLICY_CAPABILITY_MISMATCH']);
  });
});

describe('policy version', () => {
  const versionOf = (files: { path: string; text: string }[]) => {
    const r = compilePolicy(files);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.policy.version;
  };

  it('does not change with formatting, comments or key order', () => {
    const reformatted = `# a comment\nname: t\napiVersion: "switchyard/v1"\nroutes:\n- target: fast\n  id: auto\n  match:\n    model: auto\nmodels:\n  strong: { deployments: [{ model: sim-large, provider: sim }] }\n  fast:\n    deployments:\n    - provider: sim   # inline comment\n      model: sim-small\n      price: { outPerMTok: 2, inPerMTok: 1 }\nproviders: { sim: { type: simulator } }\n`;
    expect(versionOf([{ path: 'a.yaml', text: reformatted }])).toBe(
      versionOf([{ path: 'p.yaml', text: base }]),
    );
  });

  it('is the same whether the policy is one file or split over several', () => {
    const [head, routes] = base.split('routes:\n');
    expect(
      versionOf([
        { path: 'a.yaml', text: head! },
        { path: 'b.yaml', text: `routes:\n${routes}` },
      ]),
    ).toBe(versionOf([{ path: 'p.yaml', text: base }]));
  });

  it('changes with any semantic change', () => {
    const v = versionOf([{ path: 'p.yaml', text: base }]);
    expect(versionOf([{ path: 'p.yaml', text: base.replace('outPerMTok: 2', 'outPerMTok: 3') }])).not.toBe(v);
    expect(versionOf([{ path: 'p.yaml', text: base.replace('target: fast', 'target: strong') }])).not.toBe(v);
  });
});

describe('policy split over files', () => {
  it('reports an entry defined in two files with both locations', () => {
    const r = compilePolicy([
      { path: 'a.yaml', text: base },
      { path: 'b.yaml', text: 'models:\n  fast:\n    deployments: [{ provider: sim, model: x }]\n' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]).toMatchObject({ code: 'SY_POLICY_DUPLICATE_KEY', file: 'b.yaml', line: 2 });
    expect(r.errors[0]?.message).toContain('a.yaml:6:3');
  });

  it('concatenates routes from several files in file-name order', () => {
    const r = compilePolicy([
      { path: 'b.yaml', text: 'routes:\n  - { id: second, match: { model: x }, target: fast }\n' },
      { path: 'a.yaml', text: base },
    ]);
    expect(r.ok && r.policy.routes.map((x) => x.id)).toEqual(['auto', 'second']);
  });

  it('says so when a folder holds no policy file', () => {
    const r = compilePolicy([]);
    expect(!r.ok && r.errors[0]?.code).toBe('SY_POLICY_NO_FILES');
  });
});
