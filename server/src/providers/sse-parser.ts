/** One Server-Sent Event: its `event:` name (if any) and its `data:` lines joined by `\n`. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/**
 * Parses a Server-Sent Events byte stream incrementally, as chunks arrive: events may be split
 * anywhere across chunks; LF, CRLF and CR line endings; comment lines (`:`) are skipped; an event
 * with no data is dropped, per the WHATWG EventSource rules.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const lf = buffer.indexOf('\n', start);
      const cr = buffer.indexOf('\r', start);
      let end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (end === -1) break;
      // A CR at the very end of the buffer may be the first half of a CRLF split across chunks.
      if (end === cr && end === buffer.length - 1) break;
      const line = buffer.slice(start, end);
      if (buffer[end] === '\r' && buffer[end + 1] === '\n') end++;
      start = end + 1;
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = undefined;
        data = [];
        continue;
      }
      if (line.charCodeAt(0) === 58 /* : */) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.decode();
  if (buffer.length > 0 && !buffer.startsWith(':')) {
    const colon = buffer.indexOf(':');
    if (buffer.slice(0, colon) === 'data') data.push(buffer.slice(colon + 1).replace(/^ /, ''));
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}
