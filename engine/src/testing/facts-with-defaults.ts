import type { RequestFacts } from '../model/facts.ts';

/** The facts of a plain chat request from the `default` tenant: what a partial request starts from. */
export const defaultFacts: RequestFacts = Object.freeze({
  endpoint: 'chat',
  model: 'auto',
  tenant: 'default',
  keyId: 'key_test',
  tags: [],
  stream: false,
  hasTools: false,
  hasImages: false,
  inputTokens: 100,
  messageCount: 1,
  responseFormat: 'text',
  metadata: {},
});

/** Completes partial facts (from a test case, `policy explain` or a diff sample) with the defaults. */
export function factsWithDefaults(...parts: (Partial<RequestFacts> | undefined)[]): RequestFacts {
  const out: RequestFacts = { ...defaultFacts };
  for (const p of parts)
    if (p) Object.assign(out, Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
  return out;
}
