import type { AnthropicRequest, AnthropicTextBlock } from './wire.ts';

/**
 * Returns a copy of `request` with `cache_control: {type: 'ephemeral'}` breakpoints on its stable
 * prefixes: the last tool definition (caches every tool) and the last system block (caches tools
 * plus system, since Anthropic's cache prefix runs tools → system → messages). Uses at most two of
 * the four breakpoints Anthropic allows; existing breakpoints are kept.
 */
export function applyPromptCacheBreakpoints(request: AnthropicRequest): AnthropicRequest {
  const out: AnthropicRequest = { ...request };
  if (request.tools && request.tools.length > 0) {
    const tools = [...request.tools];
    const last = tools.length - 1;
    tools[last] = { ...tools[last]!, cache_control: tools[last]!.cache_control ?? { type: 'ephemeral' } };
    out.tools = tools;
  }
  if (request.system !== undefined && request.system.length > 0) {
    const system: AnthropicTextBlock[] =
      typeof request.system === 'string' ? [{ type: 'text', text: request.system }] : [...request.system];
    const last = system.length - 1;
    system[last] = { ...system[last]!, cache_control: system[last]!.cache_control ?? { type: 'ephemeral' } };
    out.system = system;
  }
  return out;
}
