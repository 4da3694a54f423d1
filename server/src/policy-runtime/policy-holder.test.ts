import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatorAdapter } from '../providers/simulator/adapter.ts';
import { type AdapterFactory, PolicyHolder } from './policy-holder.ts';

const policy = (providers: Record<string, number>, name = 'holder') => `
apiVersion: switchyard/v1
name: ${name}
providers:
${Object.entries(providers)
  .map(([p, seed]) => `  ${p}: { type: simulator, profile: { seed: ${seed} } }`)
  .join('\n')}
models:
${Object.keys(providers)
  .map((p) => `  m-${p}: { deployments: [{ provider: ${p}, model: sim-small }] }`)
  .join('\n')}
`;

let dir: string;
let created: string[];
let closed: string[];
let holder: PolicyHolder;

const factory: AdapterFactory = (spec, name) => {
  created.push(name);
  const adapter = new SimulatorAdapter(spec);
  adapter.close = async () => {
    closed.push(name);
  };
  return adapter;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sy-holder-'));
  created = [];
  closed = [];
  holder = new PolicyHolder(dir, {
    logger: pino({ level: 'silent' }),
    clock: { now: () => 0 },
    createAdapter: factory,
  });
});
afterEach(async () => {
  await holder.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PolicyHolder', () => {
  it('has nothing to hand out before the first successful load', async () => {
    expect(holder.acquire()).toBeUndefined();
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toEqual(['SY_POLICY_NO_FILES']);
  });

  it('reuses the adapter of an unchanged provider across reloads and creates one for a changed provider', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1, b: 1 }));
    await holder.reload();
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1, b: 2 }));
    await holder.reload();
    expect(created).toEqual(['a', 'b', 'b']);
    expect(closed).toEqual(['b']);
  });

  it('closes a removed provider only after the last request on the old policy released it', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1, b: 1 }));
    await holder.reload();
    const lease = holder.acquire()!;
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1 }));
    await holder.reload();
    expect(lease.active.providers.has('b')).toBe(true);
    expect(holder.active?.providers.has('b')).toBe(false);
    expect(closed).toEqual([]);
    lease.release();
    lease.release();
    expect(closed).toEqual(['b']);
  });

  it('keeps the running policy when the new one is invalid', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1 }));
    await holder.reload();
    const running = holder.active?.policy.id;
    writeFileSync(join(dir, 'policy.yaml'), 'apiVersion: switchyard/v1\nname: [broken\n');
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    expect(result.ok ? undefined : result.errors[0]).toMatchObject({
      code: 'SY_POLICY_YAML_SYNTAX',
      line: expect.any(Number),
    });
    expect(holder.active?.policy.id).toBe(running);
  });

  it('keeps the running policy when a provider of the new one cannot start', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1 }));
    await holder.reload();
    const running = holder.active?.policy.id;
    const failing = new PolicyHolder(dir, {
      logger: pino({ level: 'silent' }),
      clock: { now: () => 0 },
      createAdapter: () => {
        throw new Error('`baseUrl` is required');
      },
    });
    const result = await failing.reload();
    expect(result.ok ? undefined : result.errors[0]?.message).toBe(
      'a provider cannot start: `baseUrl` is required',
    );
    expect(failing.active).toBeUndefined();
    expect(holder.active?.policy.id).toBe(running);
  });

  it('reloads on its own when a watched file changes', async () => {
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1 }, 'first'));
    await holder.reload();
    holder.watch(20);
    writeFileSync(join(dir, 'policy.yaml'), policy({ a: 1 }, 'second'));
    const deadline = Date.now() + 5000;
    while (holder.active?.policy.name !== 'second' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(holder.active?.policy.name).toBe('second');
  });

  it('serves files it is given (a published version), keeping the running policy when they are invalid', async () => {
    const loaded = await holder.load([{ path: 'policy.yaml', text: policy({ a: 1 }, 'given') }]);
    expect(loaded.ok && loaded.policy.name).toBe('given');
    expect(holder.active?.policy.name).toBe('given');
    const broken = await holder.load([
      { path: 'policy.yaml', text: 'apiVersion: switchyard/v1\nname: [x\n' },
    ]);
    expect(broken.ok).toBe(false);
    expect(holder.active?.policy.name).toBe('given');
  });
});
