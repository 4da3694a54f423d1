import type { Deployment, EscalationHop, Plan } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatRequest } from '../providers/chat-types.ts';
import { type ProviderAdapter, UpstreamError } from '../providers/provider.ts';
import { withDeadline } from '../resilience/deadline.ts';
import {
  type ExecutePlanOptions,
  executePlan,
  judgeCompletion,
  type UpstreamTarget,
} from './execute-plan.ts';

function deployment(id: string, logicalModel = 'fast'): Deployment {
  return {
    id: `${logicalModel}/${id}`,
    logicalModel,
    providerName: 'p',
    provider: { type: 'simulator', maxConnections: 1 },
    model: id,
    weight: 1,
    price: { inPerMTok: 1, outPerMTok: 2, cachedInPerMTok: 0.5 },
    contextWindow: 1000,
    capabilities: ['chat'],
  };
}

function hop(to: string, on: EscalationHop['on'], ids: string[]): EscalationHop {
  return { to, on, minLogprob: -1, candidates: ids.map((id) => deployment(id, to)), charges: [] };
}

function plan(candidates: string[], escalation: EscalationHop[] = [], overrides: Partial<Plan> = {}): Plan {
  return {
    kind: 'plan',
    policy: 'test@1',
    routeId: 'r',
    target: 'fast',
    candidates: candidates.map((id) => deployment(id)),
    escalation,
    maxEscalations: escalation.length,
    charges: [],
    limits: [],
    resilience: {} as Plan['resilience'],
    idempotent: true,
    maxOutputTokens: 100,
    logContent: false,
    onStoreFailure: 'open',
    reasons: [],
    ...overrides,
  };
}

const completion = (content: string, finish: 'stop' | 'length' = 'stop'): ChatCompletion => ({
  id: 'c',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
});

const failure = (status: number, kind: UpstreamError['kind'] = 'status') =>
  new UpstreamError(`failed with ${status}`, kind, status, 'upstream_error', `e${status}`, status);

/** Each upstream model answers from a script: an answer, a failure, or a wait that honours abort. */
function run(
  script: Record<string, ChatCompletion | UpstreamError | 'hang'>,
  p: Plan,
  signal = new AbortController().signal,
  hooks: Pick<ExecutePlanOptions<ChatCompletion>, 'beforeHop' | 'onLevel'> = {},
) {
  const adapter = {} as ProviderAdapter;
  const clock = { now: () => 0 };
  return executePlan<ChatCompletion>({
    plan: p,
    providers: () => ({ adapter }),
    attempt: async ({ deployment: d, call }: UpstreamTarget) => {
      const outcome = script[d.model];
      if (outcome === 'hang' || outcome === undefined) {
        return new Promise<never>((_, reject) =>
          call.signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      if (outcome instanceof UpstreamError) throw outcome;
      return outcome;
    },
    judge: (c, h) => judgeCompletion(c, h, { model: 'x', messages: [] } as ChatRequest),
    signal,
    requestId: 'req_1',
    traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
    clock,
    ...hooks,
  });
}

describe('executePlan', () => {
  it('serves from the first candidate when it answers', async () => {
    const result = await run({ a: completion('hi'), b: completion('other') }, plan(['a', 'b']));
    expect(result.ok && result.deployment.id).toBe('fast/a');
    expect(result.attempts.map((a) => [a.deploymentId, a.outcome])).toEqual([['fast/a', 'ok']]);
  });

  it('falls back to the next candidate on a retryable failure', async () => {
    const result = await run({ a: failure(503), b: completion('from b') }, plan(['a', 'b']));
    expect(result.ok && result.result.choices[0]?.message.content).toBe('from b');
    expect(result.attempts.map((a) => [a.deploymentId, a.outcome, a.status])).toEqual([
      ['fast/a', 'failed', 503],
      ['fast/b', 'ok', undefined],
    ]);
  });

  it('does not fall back on a client mistake the next deployment would refuse too', async () => {
    const result = await run({ a: failure(400), b: completion('b') }, plan(['a', 'b']));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.status).toBe(400);
    expect(result.attempts).toHaveLength(1);
  });

  it('falls back only on connect failures when the route is not idempotent', async () => {
    const p = plan(['a', 'b', 'c'], [], { idempotent: false });
    const refused = await run({ a: failure(502, 'connect'), b: failure(503), c: completion('c') }, p);
    expect(!refused.ok && refused.error.status).toBe(503);
    expect(refused.attempts.map((a) => a.deploymentId)).toEqual(['fast/a', 'fast/b']);
  });

  it('escalates when every candidate failed and the hop declares `error`', async () => {
    const result = await run(
      { a: failure(500), s: completion('strong') },
      plan(['a'], [hop('strong', ['error'], ['s'])]),
    );
    expect(result.ok && result.deployment.id).toBe('strong/s');
    expect(result.escalations).toBe(1);
  });

  it('escalates on a cut-off answer and serves the stronger model', async () => {
    const result = await run(
      { a: completion('cut', 'length'), s: completion('full') },
      plan(['a'], [hop('strong', ['length'], ['s'])]),
    );
    expect(result.ok && result.result.choices[0]?.message.content).toBe('full');
    expect(result.attempts.map((a) => [a.deploymentId, a.outcome, a.trigger])).toEqual([
      ['fast/a', 'escalated', 'length'],
      ['strong/s', 'ok', undefined],
    ]);
  });

  it('keeps the cut-off answer when the escalation fails', async () => {
    const result = await run(
      { a: completion('cut', 'length'), s: failure(503) },
      plan(['a'], [hop('strong', ['length'], ['s'])]),
    );
    expect(result.ok && result.result.choices[0]?.message.content).toBe('cut');
    expect(result.ok && result.deployment.id).toBe('fast/a');
  });

  it('does not escalate on a trigger the hop does not declare, nor past maxEscalations', async () => {
    const notDeclared = await run(
      { a: completion('cut', 'length'), s: completion('s') },
      plan(['a'], [hop('strong', ['error'], ['s'])]),
    );
    expect(notDeclared.ok && notDeclared.deployment.id).toBe('fast/a');
    const capped = await run(
      { a: completion('cut', 'length'), s: completion('s') },
      plan(['a'], [hop('strong', ['length'], ['s'])], { maxEscalations: 0 }),
    );
    expect(capped.ok && capped.deployment.id).toBe('fast/a');
  });

  it('walks hops in order, one per trigger', async () => {
    const p = plan(['a'], [hop('mid', ['length'], ['m']), hop('top', ['error'], ['t'])]);
    const result = await run({ a: completion('cut', 'length'), m: failure(502), t: completion('top') }, p);
    expect(result.ok && result.deployment.id).toBe('top/t');
    expect(result.escalations).toBe(2);
  });

  it('asks before each hop, and serves the answer it has when a hop is refused', async () => {
    const asked: [string, number][] = [];
    const refused = await run(
      { a: completion('cut', 'length'), s: completion('full') },
      plan(['a'], [hop('strong', ['length'], ['s'])]),
      undefined,
      {
        beforeHop: async (h, level) => {
          asked.push([h.to, level]);
          return false;
        },
      },
    );
    expect(asked).toEqual([['strong', 1]]);
    expect(refused.ok && refused.result.choices[0]?.message.content).toBe('cut');
    expect(refused.escalations).toBe(0);
    expect(refused.attempts.map((a) => [a.deploymentId, a.outcome])).toEqual([['fast/a', 'ok']]);
    const failed = await run(
      { a: failure(500), s: completion('s') },
      plan(['a'], [hop('strong', ['error'], ['s'])]),
      undefined,
      {
        beforeHop: async () => false,
      },
    );
    expect(!failed.ok && failed.error.status).toBe(500);
  });

  it('reports what each level produced, answers escalated away from included', async () => {
    const levels: [number, boolean, string | undefined][] = [];
    await run(
      { a: failure(503), b: completion('cut', 'length'), s: completion('full') },
      plan(['a', 'b'], [hop('strong', ['length'], ['s'])]),
      undefined,
      { onLevel: (level, outcome) => levels.push([level, outcome.ok, outcome.deployment?.id]) },
    );
    expect(levels).toEqual([
      [0, true, 'fast/b'],
      [1, true, 'strong/s'],
    ]);
    const failures: (string | undefined)[] = [];
    await run({ a: failure(503), b: failure(502) }, plan(['a', 'b']), undefined, {
      onLevel: (_, outcome) => failures.push(outcome.deployment?.id),
    });
    expect(failures).toEqual(['fast/b']);
  });

  it('stops at once when the client goes away and records the attempt as cancelled', async () => {
    const controller = new AbortController();
    const pending = run({ a: 'hang', b: completion('b') }, plan(['a', 'b']), controller.signal);
    setTimeout(() => controller.abort(), 5);
    const result = await pending;
    expect(!result.ok && result.error.kind).toBe('aborted');
    expect(result.attempts.map((a) => a.outcome)).toEqual(['cancelled']);
  });

  it('turns a stall into a 504 timeout that falls back to the next candidate', async () => {
    const adapter = {} as ProviderAdapter;
    const result = await executePlan<string>({
      plan: plan(['a', 'b']),
      providers: () => ({ adapter }),
      attempt: ({ deployment: d, call }) =>
        d.model === 'a'
          ? new Promise<never>((_, reject) =>
              call.signal.addEventListener('abort', () => reject(new Error('aborted'))),
            )
          : Promise.resolve('b'),
      wrap: withDeadline(20),
      signal: new AbortController().signal,
      requestId: 'r',
      traceparent: 't',
      clock: { now: () => 0 },
    });
    expect(result.ok && result.result).toBe('b');
    expect(result.attempts[0]).toMatchObject({ outcome: 'failed', status: 504, code: 'upstream_timeout' });
  });
});

describe('judgeCompletion', () => {
  const request = {
    model: 'x',
    messages: [],
    response_format: { type: 'json_object' },
  } as unknown as ChatRequest;
  it('reports refusals, content filters, invalid JSON and low confidence only when the hop declares them', () => {
    const refusal: ChatCompletion = {
      ...completion(''),
      choices: [
        { index: 0, message: { role: 'assistant', content: null, refusal: 'no' }, finish_reason: 'stop' },
      ],
    };
    expect(judgeCompletion(refusal, hop('s', ['refusal'], []), request)).toBe('refusal');
    expect(judgeCompletion(refusal, hop('s', ['length'], []), request)).toBeUndefined();
    const filtered: ChatCompletion = {
      ...completion('x'),
      choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'content_filter' }],
    };
    expect(judgeCompletion(filtered, hop('s', ['refusal'], []), request)).toBe('refusal');
    expect(judgeCompletion(completion('not json'), hop('s', ['invalidJson'], []), request)).toBe(
      'invalidJson',
    );
    expect(judgeCompletion(completion('{"a":1}'), hop('s', ['invalidJson'], []), request)).toBeUndefined();
    const unsure: ChatCompletion = {
      ...completion('{}'),
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '{}' },
          finish_reason: 'stop',
          logprobs: { content: [{ token: 'a', logprob: -3 }] },
        },
      ],
    };
    expect(judgeCompletion(unsure, hop('s', ['lowConfidence'], []), request)).toBe('lowConfidence');
  });
});
