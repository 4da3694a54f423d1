/** Options of a retry budget. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests in the window (the policy's `retry.budgetRatio`). */
  ratio: number;
  /** Retries always allowed per window, so a quiet deployment can still retry (default 3). */
  minRetries?: number;
  /** Sliding window length in milliseconds (default 10 s). */
  windowMs?: number;
}

/**
 * Caps retries to a share of recent traffic, per deployment, so that an outage does not become a
 * retry storm: with ratio 0.2, at most one retry per five requests (plus a small floor).
 * Counted in one-second slots over the window; time comes from the caller.
 */
export class RetryBudget {
  private readonly options: RetryBudgetOptions;
  private readonly slots = new Map<
    string,
    { start: number; requests: Int32Array; retries: Int32Array; head: number }
  >();
  private readonly windowSlots: number;

  constructor(options: RetryBudgetOptions) {
    this.options = options;
    this.windowSlots = Math.max(1, Math.round((options.windowMs ?? 10_000) / 1000));
  }

  private ring(id: string, nowMs: number) {
    const sec = Math.floor(nowMs / 1000);
    let r = this.slots.get(id);
    if (!r) {
      r = {
        start: sec,
        requests: new Int32Array(this.windowSlots),
        retries: new Int32Array(this.windowSlots),
        head: sec,
      };
      this.slots.set(id, r);
    }
    // Clear the slots that fell out of the window since the last call.
    for (let s = Math.max(r.head + 1, sec - this.windowSlots + 1); s <= sec; s++) {
      r.requests[s % this.windowSlots] = 0;
      r.retries[s % this.windowSlots] = 0;
    }
    if (sec > r.head) r.head = sec;
    return { r, slot: sec % this.windowSlots };
  }

  /** Counts a first attempt to a deployment. */
  recordRequest(deploymentId: string, nowMs: number): void {
    const { r, slot } = this.ring(deploymentId, nowMs);
    r.requests[slot]!++;
  }

  /** Whether one more retry fits the budget; if so it is counted. */
  tryRetry(deploymentId: string, nowMs: number): boolean {
    const { r, slot } = this.ring(deploymentId, nowMs);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.windowSlots; i++) {
      requests += r.requests[i]!;
      retries += r.retries[i]!;
    }
    const allowed = Math.max(this.options.minRetries ?? 3, Math.floor(requests * this.options.ratio));
    if (retries >= allowed) return false;
    r.retries[slot]!++;
    return true;
  }
}
