import type { Endpoint } from '@switchyard/engine';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type ErrorShape,
  type HttpError,
  httpErrorFromDenial,
  httpErrorFromUpstream,
  openAiErrorBody,
} from '../errors.ts';
import { anthropicErrorBody } from '../providers/anthropic/translate-inbound.ts';
import type { ChatChunk, ChatCompletion, ChatRequest, Usage } from '../providers/chat-types.ts';
import type { ChatStream } from '../providers/provider.ts';
import { accountRequest } from '../request/account.ts';
import { restrictPlanToKey } from '../request/authenticate.ts';
import { collectChatFacts } from '../request/collect-facts.ts';
import { decideRequest } from '../request/decide.ts';
import { asUpstreamError, executePlan, forDeployment, judgeCompletion } from '../request/execute-plan.ts';
import { trailHeaders } from '../request/request-trail.ts';
import { withDeadline } from '../resilience/deadline.ts';
import type { GatewayContext } from './gateway-context.ts';
import { capturePolicy, clientGone, keyOf } from './proxy-request.ts';
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

async function* tracked(
  stream: ChatStream,
  first: IteratorResult<ChatChunk>,
  rest: AsyncIterator<ChatChunk>,
  seen: { usage?: Usage },
) {
  if (first.done) return;
  if (first.value.usage) seen.usage = first.value.usage;
  yield first.value;
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    if (next.value.usage) seen.usage = next.value.usage;
    yield next.value;
  }
  seen.usage ??= stream.usage ?? undefined;
}

interface OpenedStream {
  stream: ChatStream;
  iterator: AsyncIterator<ChatChunk>;
  first: IteratorResult<ChatChunk>;
}

/**
 * Steps 2–5 for a chat request whose body is already validated and whose key is authenticated:
 * collect facts → decide → execute the plan → account, answering in `output`'s format. Streams are
 * written as they arrive; a client that goes away aborts the upstream at once.
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
  const { active } = capturePolicy(ctx, request, reply);
  const facts = collectChatFacts(body, request.headers, key, output.endpoint);
  trail.stream = facts.stream;
  const decision = decideRequest(active.policy, facts, ctx.clock);
  if (decision.kind === 'deny') {
    trail.routeId = decision.routeId;
    throw httpErrorFromDenial(decision);
  }
  const plan = restrictPlanToKey(decision, key, facts.model);
  trail.routeId = plan.routeId;
  trail.target = plan.target;
  const signal = clientGone(reply);
  const common = {
    plan,
    providers: (name: string) => active.providers.get(name),
    signal,
    requestId: trail.requestId,
    traceparent: trail.traceparent,
    clock: ctx.clock,
  };

  if (!facts.stream) {
    const upstreamBody: ChatRequest = { ...body, stream: false };
    delete upstreamBody.stream_options;
    const execution = await executePlan<ChatCompletion>({
      ...common,
      attempt: (t) => t.adapter.chat(forDeployment(upstreamBody, t.deployment), t.call),
      wrap: withDeadline(plan.resilience.timeouts.totalMs),
      judge: (completion, hop) => judgeCompletion(completion, hop, body),
    });
    trail.attempts = execution.attempts;
    trail.escalations = execution.escalations;
    if (!execution.ok) {
      if (execution.error.kind === 'aborted') trail.outcome = 'cancelled';
      throw httpErrorFromUpstream(execution.error);
    }
    accountRequest(trail, execution.deployment, execution.result.usage);
    reply.headers(trailHeaders(trail));
    return output.completion(execution.result);
  }

  // Streamed: from here on this function owns the raw response and never throws.
  reply.hijack();
  const writer = new SseWriter(reply.raw, () => trailHeaders(trail));
  writer.startHeartbeat(ctx.config.heartbeatMs);
  const upstreamBody: ChatRequest = {
    ...body,
    stream: true,
    stream_options: { ...body.stream_options, include_usage: true },
  };
  const execution = await executePlan<OpenedStream>({
    ...common,
    attempt: async (t) => {
      const stream = await t.adapter.chatStream(forDeployment(upstreamBody, t.deployment), t.call);
      const iterator = stream[Symbol.asyncIterator]();
      return { stream, iterator, first: await iterator.next() };
    },
    wrap: withDeadline(plan.resilience.timeouts.firstTokenMs),
  });
  trail.attempts = execution.attempts;
  trail.escalations = execution.escalations;
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
    if (!writer.isCommitted) return sendRawError(reply, err, trailHeaders(trail), output.errorShape);
    await writer.send(
      output.errorShape === 'anthropic' ? anthropicErrorBody(err.status, err.message) : openAiErrorBody(err),
      output.errorShape === 'anthropic' ? 'error' : undefined,
    );
    writer.end();
    return;
  }
  const { stream, iterator, first } = execution.result;
  trail.deploymentId = execution.deployment.id;
  const seen: { usage?: Usage } = {};
  try {
    const { errorCode } = await output.stream(tracked(stream, first, iterator, seen), writer);
    if (errorCode && !signal.aborted) {
      trail.outcome = 'error';
      trail.errorCode = errorCode;
    }
  } catch (err) {
    ctx.logger.error({ err, reqId: trail.requestId }, 'stream output failed');
    writer.end();
  } finally {
    if (signal.aborted) {
      trail.outcome = 'cancelled';
      // Closes the upstream body if the output stopped reading early.
      await iterator.return?.().catch(() => undefined);
    }
    accountRequest(trail, execution.deployment, seen.usage ?? stream.usage);
  }
}

/** Answers with an error on a hijacked response whose headers have not gone out yet. */
function sendRawError(
  reply: FastifyReply,
  err: HttpError,
  headers: Record<string, string>,
  shape: ErrorShape,
): void {
  const body = JSON.stringify(
    shape === 'anthropic' ? anthropicErrorBody(err.status, err.message) : openAiErrorBody(err),
  );
  const extra: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  };
  if (err.retryAfterMs !== undefined && (err.status === 429 || err.status === 503)) {
    extra['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }
  reply.raw.writeHead(err.status, { ...headers, ...extra });
  reply.raw.end(body);
}
