import { invalidChatRequestError } from '../invalid-chat-request-error.ts';

/** Control markers found in the last user message (`#sim:<name>[=<value>]`). */
export interface SimMarkers {
  /** `#sim:error=<status>`: fail with that upstream status. */
  errorStatus?: number | undefined;
  /** `#sim:refuse`: answer with a refusal. */
  refuse: boolean;
  /** `#sim:slow=<ms>`: extra delay before the first token. */
  slowMs?: number | undefined;
  /** `#sim:stall=<n>`: send n stream chunks (the role chunk counts), then hang until aborted. */
  stallAfterChunks?: number | undefined;
  /** `#sim:midstream-error=<n>`: send n stream chunks (the role chunk counts), then fail. */
  errorAfterChunks?: number | undefined;
  /** `#sim:body-error`: answer 200 with an error object as the body (or first stream event). */
  bodyError: boolean;
}

const markerPattern = /#sim:([a-z-]+)(?:=(\S*))?/g;
const valued = {
  error: 'a status such as 503',
  slow: 'milliseconds',
  stall: 'a chunk count',
  'midstream-error': 'a chunk count',
};
const flags = ['refuse', 'body-error'];

/**
 * Finds the simulator's control markers in a prompt and returns the prompt without them, so answers
 * never echo them. An unknown marker or a bad value is the caller's mistake: a 400 saying what is known.
 */
export function parseSimMarkers(text: string): { markers: SimMarkers; prompt: string } {
  const markers: SimMarkers = { refuse: false, bodyError: false };
  for (const match of text.matchAll(markerPattern)) {
    const name = match[1] ?? '';
    const raw = match[2];
    if (flags.includes(name)) {
      if (name === 'refuse') markers.refuse = true;
      else markers.bodyError = true;
      continue;
    }
    const expected = valued[name as keyof typeof valued];
    if (!expected)
      throw invalidChatRequestError(
        `unknown simulator marker \`#sim:${name}\`; use #sim:error=<status>, #sim:refuse, #sim:slow=<ms>, #sim:stall=<n>, #sim:midstream-error=<n> or #sim:body-error`,
        'invalid_simulator_marker',
      );
    const value = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(value) || (name === 'error' && (value < 400 || value > 599)))
      throw invalidChatRequestError(
        `expected \`#sim:${name}\` to be followed by =<${expected}>, got \`${match[0]}\``,
        'invalid_simulator_marker',
      );
    if (name === 'error') markers.errorStatus = value;
    else if (name === 'slow') markers.slowMs = value;
    else if (name === 'stall') markers.stallAfterChunks = value;
    else markers.errorAfterChunks = value;
  }
  const prompt = text.replace(markerPattern, ' ').replace(/\s+/g, ' ').trim();
  return { markers, prompt };
}
