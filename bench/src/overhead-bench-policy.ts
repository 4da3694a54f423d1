/**
 * The policy Switchyard serves in the overhead bench: one OpenAI-compatible provider (the bench's
 * fake upstream), model `fast` (chat, streaming, embedding) and model `embed` on it, tenant
 * `default` with no quotas or rate limits, no routes or cache rules, default resilience settings.
 * A plain run: what is measured is the gateway's own path, not a policy's features.
 */
export function buildOverheadPolicy(upstreamBaseUrl: string): string {
  return `# Written by bench/src/overhead-bench.ts for one run; not a policy to serve.
apiVersion: switchyard/v1
name: overhead-bench
description: plain run against the bench's fake upstream; no quotas, rate limits or cache rules

providers:
  upstream:
    type: openai-compatible
    baseUrl: ${upstreamBaseUrl}

models:
  fast:
    description: the fake upstream's model
    capabilities: [chat, streaming, embedding]
    deployments:
      - { id: bench, provider: upstream, model: bench-model }
  embed:
    description: the fake upstream's embeddings
    capabilities: [embedding]
    deployments:
      - { id: bench-embed, provider: upstream, model: bench-model }

tenants:
  default:
    allowModels: [fast, embed]
`;
}
