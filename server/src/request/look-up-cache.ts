import type { Plan } from '@switchyard/engine';
import type { CacheLookup, GatewayCache } from '../cache/gateway-cache.ts';
import type { EmbedText } from '../cache/semantic-cache.ts';
import type { Clock } from '../clock.ts';
import type { ActivePolicy } from '../policy-runtime/policy-holder.ts';
import type {
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../providers/chat-types.ts';
import { UpstreamError } from '../providers/provider.ts';
import type { RequestTrace } from '../telemetry/request-trace.ts';
import type { RequestTrail } from './request-trail.ts';

/** Longest a semantic lookup waits for its embedding; past it the lookup is a miss (fail open). */
const embedDeadlineMs = 5_000;

/** What a cache lookup needs from the request. */
export interface CacheLookupRequest<R> {
  cache: GatewayCache;
  clock: Clock;
  plan: Plan;
  /** The policy the request captured: its providers embed semantic lookups. */
  active: ActivePolicy;
  body: R;
  /** The request's `Cache-Control` header. */
  cacheControl: string | string[] | undefined;
  trail: RequestTrail;
  trace: RequestTrace | undefined;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/**
 * Embeds a text with the policy's own provider path: the first deployment of the logical model
 * `modelName`, through its adapter's `embed`, within `embedDeadlineMs` (and the client's patience).
 * Used by semantic cache rules (`plan.cache.embeddingModel`).
 */
export function policyEmbedder(
  active: ActivePolicy,
  modelName: string,
  request: { signal: AbortSignal; requestId: string; traceparent: string },
): EmbedText {
  return async (text) => {
    const deployment = active.policy.models.get(modelName)?.deployments[0];
    const binding = deployment && active.providers.get(deployment.providerName);
    if (!deployment || !binding)
      throw new UpstreamError(
        `embedding model \`${modelName}\` has no running deployment`,
        'connect',
        502,
        'upstream_error',
        'upstream_unreachable',
      );
    const response = await binding.adapter.embed(
      { model: deployment.model, input: text },
      {
        deployment,
        apiKey: binding.apiKey,
        baseUrl: binding.baseUrl,
        headers: binding.headers,
        signal: AbortSignal.any([request.signal, AbortSignal.timeout(embedDeadlineMs)]),
        requestId: request.requestId,
        traceparent: request.traceparent,
      },
    );
    const vector = response.data[0]?.embedding;
    if (!Array.isArray(vector)) throw new Error(`embedding model \`${modelName}\` returned no vector`);
    return vector;
  };
}

/** Records a lookup's outcome on the trail and the trace. */
function noteLookup(trail: RequestTrail, trace: RequestTrace | undefined, lookup: CacheLookup<never>): void {
  trail.cacheStatus = lookup.status;
  trail.cacheRule = lookup.ruleId;
  if (lookup.hit) {
    trail.cacheSimilarity = lookup.hit.similarity;
    trail.savedCostUsd = lookup.hit.entry.savedCostUsd;
  }
  trace?.recordCache(lookup.ruleId, lookup.status);
}

/**
 * The step after admission, when `plan.cache` applies: looks the chat request up (exactly, then by
 * meaning for semantic rules) in a `cache.lookup` span, honouring the client's `Cache-Control`.
 * Undefined when no rule applies (the response then says `x-switchyard-cache: bypass`). Never
 * rejects: the cache fails open.
 */
export async function lookUpChatCache(
  input: CacheLookupRequest<ChatRequest>,
): Promise<CacheLookup<ChatCompletion> | undefined> {
  const { plan, trail } = input;
  const rule = plan.cache;
  if (!rule) return undefined;
  const span = input.trace?.startChild('cache.lookup', { 'switchyard.cache.rule': rule.ruleId });
  const embed =
    rule.mode === 'semantic' && rule.embeddingModel
      ? policyEmbedder(input.active, rule.embeddingModel, {
          signal: input.signal,
          requestId: trail.requestId,
          traceparent: span?.traceparent ?? trail.traceparent,
        })
      : undefined;
  const lookup = await input.cache.lookupChat({
    cache: rule,
    logicalModel: plan.target,
    request: input.body,
    cacheControl: input.cacheControl,
    embed,
    nowMs: input.clock.now(),
  });
  noteLookup(trail, input.trace, lookup as CacheLookup<never>);
  span?.setAttribute('switchyard.cache.status', lookup.status).end();
  return lookup;
}

/** `lookUpChatCache` for `/v1/embeddings` (always exact). */
export async function lookUpEmbeddingsCache(
  input: CacheLookupRequest<EmbeddingsRequest>,
): Promise<CacheLookup<EmbeddingsResponse> | undefined> {
  const { plan, trail } = input;
  const rule = plan.cache;
  if (!rule) return undefined;
  const span = input.trace?.startChild('cache.lookup', { 'switchyard.cache.rule': rule.ruleId });
  const lookup = await input.cache.lookupEmbeddings({
    cache: rule,
    logicalModel: plan.target,
    request: input.body,
    cacheControl: input.cacheControl,
    nowMs: input.clock.now(),
  });
  noteLookup(trail, input.trace, lookup as CacheLookup<never>);
  span?.setAttribute('switchyard.cache.status', lookup.status).end();
  return lookup;
}
