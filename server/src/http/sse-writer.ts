import type { ServerResponse } from 'node:http';

/** The headers of every event stream the gateway sends. */
export const sseHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * Writes a server-sent event stream on a raw (hijacked) response. The gateway commits the status
 * line and headers with `commit()` as soon as a stream is admitted, so clients see the stream
 * start at once; any later failure is an error event. A write commits them too if nobody did.
 * Every write respects backpressure.
 */
export class SseWriter {
  private readonly res: ServerResponse;
  private readonly headers: () => Readonly<Record<string, string>>;
  #heartbeat: NodeJS.Timeout | undefined;
  #ended = false;
  /** Frames kept back by `holdUntilEnd`, written with the end of the stream. */
  #held: string[] | undefined;

  constructor(res: ServerResponse, headers: () => Readonly<Record<string, string>>) {
    this.res = res;
    this.headers = headers;
  }

  /** Whether the status line and headers have gone out (an HTTP error status is no longer possible). */
  get isCommitted(): boolean {
    return this.res.headersSent;
  }

  /** Whether the client is gone or the stream has ended. */
  get isClosed(): boolean {
    return this.#ended || this.res.destroyed || this.res.writableEnded;
  }

  /** Sends `: heartbeat` comments every `intervalMs` until the first event (committing the headers). */
  startHeartbeat(intervalMs: number): void {
    this.#heartbeat = setInterval(() => {
      if (this.isClosed) return this.stopHeartbeat();
      this.commit();
      this.res.write(': heartbeat\n\n');
    }, intervalMs);
    this.#heartbeat.unref();
  }

  /** Stops the heartbeat. */
  stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * Keeps every frame from now on and writes them, with the headers, in one piece at `end()`: for
   * a stream whose events all exist already (a cache replay), where one write per event would only
   * cost system calls and packets. Never for a relayed stream: its events must go out as they come.
   */
  holdUntilEnd(): void {
    this.#held ??= [];
  }

  /** Writes `data: <json>\n\n` (with `event: <name>` first when named); resolves once it may write again. */
  async send(data: unknown, event?: string): Promise<void> {
    await this.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }

  /** Writes a raw frame; resolves at once, or on `drain` when the socket buffer is full. */
  async write(frame: string): Promise<void> {
    if (this.isClosed) return;
    this.stopHeartbeat();
    if (this.#held) {
      this.#held.push(frame);
      return;
    }
    this.commit();
    if (this.res.write(frame)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Ends the stream (writing `final` first, e.g. `data: [DONE]\n\n`). */
  end(final?: string): void {
    this.stopHeartbeat();
    if (this.isClosed) return;
    this.commit();
    this.#ended = true;
    const held = this.#held;
    if (held) {
      if (final !== undefined) held.push(final);
      this.res.end(held.join(''));
    } else this.res.end(final);
  }

  /** Sends the 200, the SSE headers and the request's own headers now (once; a no-op after). */
  commit(): void {
    if (this.res.headersSent || this.isClosed) return;
    this.res.writeHead(200, { ...this.headers(), ...sseHeaders });
    // Send the headers now, not with the first body chunk (held frames go out with them at the end).
    if (!this.#held) this.res.flushHeaders();
  }
}
