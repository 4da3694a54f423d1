import type { Endpoint, Plan, RequestFacts } from '@switchyard/engine';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CompletionAssembler } from '../cache/assemble-completion.ts';
import type { CacheLookup } from '../cache/gateway-cache.ts';
import { replayAsStream } from '../cache/replay-as-stream.ts';
import { type ErrorShape, httpErrorFromUpstream, openAiErrorBody } from '../errors.ts';
import type { ActivePolicy } from '../policy-runtime/policy-holder.ts';
import { anthropicErrorBody } from '../providers/anthropic/translate-inbound.ts';
import type { ChatChunk, ChatCompletion, ChatRequest, Usage } from '../providers/chat-types.ts';
import type { ChatStream, UpstreamError } from '../providers/provider.ts';
import { accountRequest, type LevelUsage } from '../request/account.ts';
import { type Admission, admitRequest } from '../request/admit.ts';
import { collectChatFacts } from '../request/collect-facts.ts';
import { countPromptTokens } from '../request/count-tokens.ts';
import {
  asUpstreamError,
  executePlan,
  forDeployment,
  judgeCompletion,
  type LevelOutcome,
} from '../request/execute-plan.ts';
import { levelUsages, once, type UsageMeasure } from '../request/level-usage.ts';
import { lookUpChatCache } from '../request/look-up-cache.ts';
import { planAttemptWrapper } from '../request/plan-resilience.ts';
import { recordExecution, recordResponse, trailHeaders } from '../request/request-trail.ts';
import type { Release } from '../resilience/deployment-limiter.ts';
import { guardStream } from '../resilience/guard-stream.ts';
import { countsAgainstBreaker } from '../resilience/with-breaker.ts';
import type { GatewayContext } from './gateway-context.ts';
import { capturePolicy, clientGone, deferred, keyOf, planRequest } from './proxy-request.ts';
import { SseWriter } from './sse-writer.ts';

/** How a chat answer is written back in the client's API (OpenAI chat completions or Anthropic messages). */
export interface ChatOutput {
  endpoint: Extract<Endpoint, 'chat' | 'messages'>;
  errorShape: ErrorShape;
  /** The response body of a non-streamed answer. */
  completion(completion: ChatCompletion): unknown;
  /**
   * Writes a streamed answer. `chunks` throws if the upstream fails mid-stream; the output then
   * writes the error event its SDKs surface as an error (never a silent end) and resolves to the code.
   */
  stream(chunks: AsyncIterable<ChatChunk>, writer: SseWriter): Promise<{ errorCode?: string }>;
}

/** Chat completions in OpenAI's format; the usage-only chunk is kept only when the client asked for it. */
export function openAiChatOutput(body: ChatRequest): ChatOutput {
  const includeUsage = body.stream_options?.include_usage === true;
  return {
    endpoint: 'chat',
    errorShape: 'openai',
    completion: (completion) => completion,
    async stream(chunks, writer) {
      try {
        for await (const chunk of chunks) {
          if (writer.isClosed) return {};
          if (!includeUsage) {
            if (chunk.choices.length === 0) continue;
            if (chunk.usage) {
              const { usage: _dropped, ...rest } = chunk;
              await writer.send(rest);
              continue;
            }
          }
          await writer.send(chunk);
        }
      } catch (err) {
        if (writer.isClosed) return {};
        const error = httpErrorFromUpstream(asUpstreamError(err, false));
        // The OpenAI SDKs throw an APIError for a `data:` event carrying `error`.
        await writer.send(openAiErrorBody(error));
        writer.end();
        return { errorCode: error.code };
      }
      writer.end('data: [DONE]\n\n');
      return {};
    },
  };
}

/** What a relayed stream showed on its way through: usage, the text generated, the error it ended with. */
interface StreamSeen {
  usage?: Usage | undefined;
  /** Content, refusal and tool-call text, kept only to count tokens when the upstream reports no usage. */
  text: string[];
  /** Finish reasons of the choices, in order seen. */
  finishReasons: string[];
  error?: unknown;
  firstAtMs?: number | undefined;
  /** Rebuilds the answer, when it may be cached or logged. */
  assembler?: CompletionAssembler | undefined;
}

function collectText(chunk: ChatChunk, seen: StreamSeen): void {
  const text = seen.text;
  seen.assembler?.add(chunk);
  for (const choice of chunk.choices) {
    if (choice.finish_reason) seen.finishReasons.push(choice.finish_reason);
    const d = choice.delta;
    if (d.content) text.push(d.content);
    if (d.refusal) text.push(d.refusal);
    if (d.tool_calls)
      for (const call of d.tool_calls) {
        if (call.function?.name) text.push(call.function.name);
        if (call.function?.arguments) text.push(call.function.arguments);
      }
  }
}

async function* tracked(
  stream: ChatStream,
  first: IteratorResult<ChatChunk>,
  rest: AsyncIterator<ChatChunk>,
  seen: StreamSeen,
  now: () => number,
) {
  try {
    if (first.done) return;
    seen.firstAtMs = now();
    if (first.value.usage) seen.usage = first.value.usage;
    collectText(first.value, seen);
    yield first.value;
    for (;;) {
      const next = await rest.next();
      if (next.done) break;
      if (next.value.usage) seen.usage = next.value.usage;
      collectText(next.value, seen);
      yield next.value;
    }
    seen.usage ??= stream.usage ?? undefined;
  } catch (err) {
    seen.error = err;
    throw err;
  }
}

interface OpenedStream {
  stream: ChatStream;
  iterator: AsyncIterator<ChatChunk>;
  first: IteratorResult<ChatChunk>;
  /** Ends this upstream request (idle or total timeout mid-stream). */
  abort: AbortController;
}

/** The text of a non-streamed answer that counts as output tokens. */
function completionText(completion: ChatCompletion): string {
  let text = '';
  for (const choice of completion.choices) {
    const m = choice.message;
    text += (m.content ?? '') + (m.refusal ?? '');
    for (const call of m.tool_calls ?? []) text += call.function.name + call.function.arguments;
  }
  return text;
}

/**
 * Steps 2–5 for a chat request whose body is already validated and whose key is authenticated:
 * collect facts → decide → admit (rate limits, quota reservations) → cache lookup (when a rule
 * applies; a hit answers from cache) → execute the plan → account (settle, ledger, cache write),
 * answering in `output`'s format. Streams are written as they arrive, their headers sent as soon as
 * the request is admitted; a client that goes away aborts the upstream at once.
 */
export async function proxyChat(
  ctx: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ChatRequest,
  output: ChatOutput,
): Promise<unknown> {
  const key = keyOf(request);
  const trail = request.trail;
  trail.endpoint = output.endpoint;
  const { active } = capturePolicy(ctx, request, reply);
  const facts = collectChatFacts(body, request.headers, key, output.endpoint);
  trail.stream = facts.stream;
  const decided = planRequest(ctx, active.policy, facts, key, request);
  // A repeated Idempotency-Key: the first try may have done its work upstream, so no second helping.
  const idempotent =
    decided.idempotent &&
    ctx.idempotencyKeys.isFirstUse(key.id, request.headers['idempotency-key'], ctx.clock.now());
  const plan = idempotent === decided.idempotent ? decided : { ...decided, idempotent };
  const admission = await admitRequest(ctx, { plan, policy: active.policy, key, facts, trail });
  if (plan.logContent) request.loggedContent = { messages: body.messages };
  const signal = clientGone(reply);
  let lookup: CacheLookup<ChatCompletion> | undefined;
  try {
    lookup = await lookUpChatCache({
      cache: ctx.cache,
      clock: ctx.clock,
      plan,
      active,
      body,
      cacheControl: request.headers['cache-control'],
      trail,
      trace: request.trace,
      signal,
    });
  } catch (err) {
    // Lookups fail open and never reject; should one, the reservations must not wait for their lease.
    void admission.settle([]);
    throw err;
  }
  const run: ChatRun = {
    ctx,
    request,
    reply,
    body,
    output,
    plan,
    facts,
    active,
    admission,
    idempotent,
    signal,
    lookup,
  };
  if (lookup?.hit) return answerFromCache(run, lookup.hit.entry.completion);
  return facts.stream ? proxyChatStream(run) : proxyChatCompletion(run);
}

interface ChatRun {
  ctx: GatewayContext;
  request: FastifyRequest;
  reply: FastifyReply;
  body: ChatRequest;
  output: ChatOutput;
  plan: Plan;
  facts: RequestFacts;
  active: ActivePolicy;
  admission: Admission;
  idempotent: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The cache lookup, when a cache rule applied: where to store a fresh answer. */
  lookup: CacheLookup<ChatCompletion> | undefined;
}

/**
 * A cache hit: the stored answer, as JSON or replayed as a proper event stream. The hit counts
 * against rate limits (its buckets stay taken) but used no tokens upstream, so its quota
 * reservations are released, unless the rule says `countTokensOnHit` (tokens and requests are then
 * charged; dollars never: nothing was spent).
 */
async function answerFromCache(run: ChatRun, completion: ChatCompletion): Promise<unknown> {
  const { ctx, reply, output, plan, admission, request } = run;
  const trail = request.trail;
  trail.deploymentId = run.lookup?.hit?.entry.deploymentId;
  trail.outcome = 'ok';
  recordResponse(trail, completion);
  if (request.loggedContent) request.loggedContent.completion = completion;
  const levels: LevelUsage[] =
    plan.cache?.countTokensOnHit && completion.usage ? [{ usage: completion.usage, estimated: false }] : [];
  if (levels.length > 0) accountRequest(trail, undefined, levels);
  const finished = deferred();
  trail.pending = finished.promise;
  void admission.settle(levels).finally(finished.resolve);
  if (!run.facts.stream) {
    reply.headers(admission.headers);
    reply.headers(trailHeaders(trail));
    return output.completion(completion);
  }
  reply.hijack();
  const writer = new SseWriter(reply.raw, () => ({ ...trailHeaders(trail), ...admission.headers }));
  // The whole answer is here already: headers and every event leave in one write.
  writer.holdUntilEnd();
  writer.commit();
  trail.firstTokenAtMs = ctx.clock.now();
  try {
    // The usage chunk as OpenAI sends it only when asked for; Anthropic's events always carry usage.
    const includeUsage = output.endpoint === 'messages' || run.body.stream_options?.include_usage === true;
    const { errorCode } = await output.stream(replayAsStream(completion, { includeUsage }), writer);
    if (errorCode) {
      trail.outcome = 'error';
      trail.errorCode = errorCode;
    }
  } catch (err) {
    ctx.logger.error({ err, reqId: trail.requestId }, 'cache replay failed');
    writer.end();
  }
  return undefined;
}

/** Stores a fresh, complete answer where the lookup said (never rejects; never delays the response). */
function rememberAnswer(
  run: ChatRun,
  completion: ChatCompletion | undefined,
  deploymentId: string | undefined,
): void {
  const { lookup, ctx } = run;
  if (!lookup?.write || !completion || !deploymentId) return;
  void ctx.cache.remember(
    lookup,
    completion,
    'ok',
    { deploymentId, costUsd: run.request.trail.costUsd },
    ctx.clock.now(),
  );
}

/** How the usage of a chat answer is read, or counted when the upstream reported none. */
function chatMeasure<T>(
  ctx: GatewayContext,
  body: ChatRequest,
  reported: (result: T) => Usage | undefined,
  outputText: (result: T) => string,
): UsageMeasure<T> {
  return {
    reported,
    countOutput: async (result) => (await ctx.tokenCounter())(outputText(result)),
    countPrompt: once(async () => countPromptTokens(await ctx.tokenCounter(), body.messages, body.tools)),
  };
}

function executionBasics(run: ChatRun) {
  const { ctx, plan, active, request } = run;
  return {
    plan,
    providers: (name: string) => active.providers.get(name),
    signal: run.signal,
    requestId: request.trail.requestId,
    traceparent: request.trail.traceparent,
    clock: ctx.clock,
    beforeHop: (hop: Plan['escalation'][number], level: number) => run.admission.reserveHop(hop, level),
  };
}

async function proxyChatCompletion(run: ChatRun): Promise<unknown> {
  const { ctx, reply, body, output, plan, admission } = run;
  const trail = run.request.trail;
  const finished = deferred();
  trail.pending = finished.promise;
  const outcomes: LevelOutcome<ChatCompletion>[] = [];
  const measure = chatMeasure<ChatCompletion>(ctx, body, (c) => c.usage, completionText);
  // Rate-limit headers go with whatever the answer turns out to be, errors included.
  reply.headers(admission.headers);
  try {
    const upstreamBody: ChatRequest = { ...body, stream: false };
    delete upstreamBody.stream_options;
    const promptCache = plan.cache?.promptCache;
    const execution = await executePlan<ChatCompletion>({
      ...executionBasics(run),
      attempt: (t) =>
        t.adapter.chat(
          forDeployment(upstreamBody, t.deployment),
          promptCache ? { ...t.call, promptCache } : t.call,
        ),
      wrap: planAttemptWrapper(ctx, plan, {
        idempotent: run.idempotent,
        deadlineMs: plan.resilience.timeouts.totalMs,
        trail,
        trace: run.request.trace,
      }),
      judge: (completion, hop) => judgeCompletion(completion, hop, body),
      onLevel: (level, outcome) => {
        outcomes[level] = outcome;
      },
    });
    recordExecution(trail, plan, execution);
    const levels = await levelUsages(outcomes, measure);
    accountRequest(trail, execution.ok ? execution.deployment : undefined, levels);
    // Settling never delays the answer; the log line and ledger row wait for it.
    void admission.settle(levels).finally(finished.resolve);
    if (!execution.ok) {
      if (execution.error.kind === 'aborted') trail.outcome = 'cancelled';
      throw httpErrorFromUpstream(execution.error);
    }
    recordResponse(trail, execution.result);
    if (run.request.loggedContent) run.request.loggedContent.completion = execution.result;
    rememberAnswer(run, execution.result, execution.deployment.id);
    reply.headers(trailHeaders(trail));
    return output.completion(execution.result);
  } catch (err) {
    // Settling is once-only: after the settle above this does nothing; after a bug it releases all.
    void admission.settle([]).finally(finished.resolve);
    throw err;
  }
}

/** Streamed: from the moment the request is admitted this function owns the raw response and never throws. */
async function proxyChatStream(run: ChatRun): Promise<void> {
  const { ctx, reply, body, output, plan, admission } = run;
  const trail = run.request.trail;
  const finished = deferred();
  trail.pending = finished.promise;
  const signal = run.signal;
  reply.hijack();
  const writer = new SseWriter(reply.raw, () => ({ ...trailHeaders(trail), ...admission.headers }));
  // Headers go out now: the client sees the stream begin before the upstream has said anything.
  writer.commit();
  writer.startHeartbeat(ctx.config.heartbeatMs);
  const outcomes: LevelOutcome<OpenedStream>[] = [];
  const seen: StreamSeen = {
    text: [],
    finishReasons: [],
    assembler: run.lookup?.write || run.request.loggedContent ? new CompletionAssembler() : undefined,
  };
  let release: Release | undefined;
  let opened: OpenedStream | undefined;
  // The serving call's span and health record stay open until the stream has ended.
  let endServing: ((failure?: UpstreamError) => void) | undefined;
  const measure = chatMeasure<OpenedStream>(
    ctx,
    body,
    (s) => seen.usage ?? s.stream.usage ?? undefined,
    () => seen.text.join(''),
  );
  try {
    const upstreamBody: ChatRequest = {
      ...body,
      stream: true,
      stream_options: { ...body.stream_options, include_usage: true },
    };
    const promptCache = plan.cache?.promptCache;
    const execution = await executePlan<OpenedStream>({
      ...executionBasics(run),
      attempt: async (t) => {
        const abort = new AbortController();
        const call = {
          ...t.call,
          signal: AbortSignal.any([t.call.signal, abort.signal]),
          ...(promptCache ? { promptCache } : {}),
        };
        const stream = await t.adapter.chatStream(forDeployment(upstreamBody, t.deployment), call);
        const iterator = stream[Symbol.asyncIterator]();
        return { stream, iterator, first: await iterator.next(), abort };
      },
      wrap: planAttemptWrapper<OpenedStream>(ctx, plan, {
        idempotent: run.idempotent,
        deadlineMs: plan.resilience.timeouts.firstTokenMs,
        // The stream keeps its deployment slot until it ends.
        hold: (_stream, r) => {
          release = r;
        },
        trail,
        trace: run.request.trace,
        keepOpen: (_stream, end) => {
          endServing = end;
        },
      }),
      onLevel: (level, outcome) => {
        outcomes[level] = outcome;
      },
    });
    recordExecution(trail, plan, execution);
    if (!execution.ok) {
      writer.stopHeartbeat();
      if (execution.error.kind === 'aborted' || writer.isClosed) {
        trail.outcome = 'cancelled';
        writer.end();
        return;
      }
      const err = httpErrorFromUpstream(execution.error);
      trail.outcome = 'error';
      trail.errorCode = err.code;
      trail.errorStatus = err.status;
      trail.errorMessage = err.message;
      await writer.send(
        output.errorShape === 'anthropic'
          ? anthropicErrorBody(err.status, err.message)
          : openAiErrorBody(err),
        output.errorShape === 'anthropic' ? 'error' : undefined,
      );
      writer.end();
      return;
    }
    opened = execution.result;
    const { stream, iterator, first, abort } = opened;
    const deployment = execution.deployment;
    trail.deploymentId = deployment.id;
    const guarded = guardStream(iterator, {
      idleMs: plan.resilience.timeouts.idleMs,
      deadlineAt: trail.startedAtMs + plan.resilience.timeouts.totalMs,
      now: () => ctx.clock.now(),
      abort: () => abort.abort(),
    });
    try {
      await output.stream(
        tracked(stream, first, guarded, seen, () => ctx.clock.now()),
        writer,
      );
    } catch (err) {
      ctx.logger.error({ err, reqId: trail.requestId }, 'stream output failed');
      writer.end();
    }
    trail.firstTokenAtMs = seen.firstAtMs;
    if (seen.error !== undefined && !signal.aborted) {
      const err = asUpstreamError(seen.error, false);
      trail.outcome = 'error';
      trail.errorCode = err.code;
      trail.errorStatus = err.status;
      trail.errorMessage = err.message;
      endServing?.(err);
      endServing = undefined;
      // A stream that broke or stalled half-way says something about the upstream's health too.
      if (countsAgainstBreaker(err)) {
        const now = ctx.clock.now();
        ctx.breakers
          .record(deployment.id, 'failure', now, plan.resilience.breaker)
          .then((state) =>
            ctx.breakerMirror.observe(deployment.id, state, now, plan.resilience.breaker.openMs),
          )
          .catch(() => undefined);
      }
    }
  } catch (err) {
    ctx.logger.error({ err, reqId: trail.requestId }, 'stream failed');
    writer.end();
  } finally {
    writer.stopHeartbeat();
    if (signal.aborted) trail.outcome = 'cancelled';
    endServing?.();
    // Closes the upstream body if the output stopped reading early (client gone, error written).
    if (opened) await opened.iterator.return?.().catch(() => undefined);
    release?.();
    // A stream cut short (client gone, stall) or from a server that never reports usage is counted.
    const levels = await levelUsages(outcomes, measure).catch(() => []);
    const served = opened ? outcomes[trail.escalations]?.deployment : undefined;
    accountRequest(trail, served, levels);
    const assembled = seen.assembler?.result();
    if (opened) {
      const firstChunk = opened.first.done ? undefined : opened.first.value;
      trail.response = {
        id: firstChunk?.id,
        model: firstChunk?.model,
        finishReasons: seen.finishReasons,
      };
      if (assembled && run.request.loggedContent) run.request.loggedContent.completion = assembled;
    }
    // Only a stream that ran to its end for a client still there is an answer worth keeping.
    if (seen.error === undefined && !signal.aborted && trail.outcome === undefined)
      rememberAnswer(run, assembled, served?.id);
    await admission.settle(levels);
    finished.resolve();
  }
}
