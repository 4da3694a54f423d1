import type { ChatChunk } from './chat-types.ts';
import type { ChatStream } from './provider.ts';

/**
 * Wraps a chunk generator as a `ChatStream` once its first chunk arrived: an error that the
 * upstream reports in its first stream event then rejects the call (so the caller can still retry
 * or fall back) instead of surfacing after the client was answered. Nothing beyond that first chunk
 * is read ahead. The stream can be iterated once; breaking out closes the upstream body.
 */
export async function primeChatStream(
  source: AsyncGenerator<ChatChunk>,
  readUsage: () => ChatChunk['usage'] | undefined,
): Promise<ChatStream> {
  const first = await source.next();
  let iterated = false;
  return {
    get usage() {
      return readUsage();
    },
    [Symbol.asyncIterator]() {
      if (iterated) throw new Error('a chat stream can be iterated only once');
      iterated = true;
      return (async function* () {
        if (first.done) return;
        yield first.value;
        yield* source;
      })();
    },
  };
}
