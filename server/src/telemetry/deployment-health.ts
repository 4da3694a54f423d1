import type { BreakerState } from '@switchyard/engine';
import { redactSecretText } from './secret-scrubber.ts';

/** One upstream attempt as health sees it (an `AttemptRecord` satisfies it). */
export interface HealthAttempt {
  deploymentId: string;
  outcome: 'ok' | 'escalated' | 'failed' | 'cancelled';
  /** How long the attempt took. */
  ms: number;
  status?: number | undefined;
  code?: string | undefined;
}

/** Success ratio and latency of a deployment over one window. */
export interface HealthWindow {
  requests: number;
  failures: number;
  /** Successes / requests; null without requests. */
  successRatio: number | null;
  /** Latency percentiles of successful attempts (±5%), in ms; null without successes. */
  latencyMs: { p50: number | null; p95: number | null };
}

/** The last failure of a deployment. */
export interface LastError {
  status?: number | undefined;
  code?: string | undefined;
  /** The error message, secrets redacted, at most 500 characters. */
  message?: string | undefined;
  /** ISO 8601. */
  at: string;
}

/** One deployment in `GET /admin/v1/health`. */
export interface DeploymentHealthView {
  id: string;
  /** From the breaker store; `unknown` when it could not be read. */
  breaker: BreakerState | 'unknown';
  /** By window name (`1m`, `5m`). */
  windows: Record<string, HealthWindow>;
  lastError?: LastError | undefined;
}

/** `GET /admin/v1/health`. */
export interface HealthSnapshot {
  /** ISO 8601. */
  at: string;
  deployments: DeploymentHealthView[];
}

/** Options of `DeploymentHealth`. */
export interface DeploymentHealthOptions {
  /** Width of one slice of the sliding windows, in ms (default 10 000). */
  bucketMs?: number | undefined;
  /** Windows reported, by name, in ms; multiples of `bucketMs` (default `{ '1m': 60 000, '5m': 300 000 }`). */
  windows?: Readonly<Record<string, number>> | undefined;
  /** Breaker states (e.g. `BreakerStore.state`); failures show as `unknown`. */
  breakers?:
    | ((deploymentIds: readonly string[], nowMs: number) => Promise<Readonly<Record<string, BreakerState>>>)
    | undefined;
  /** Deployments to show even without traffic (the active policies' deployment ids). */
  deployments?: (() => readonly string[]) | undefined;
}

/** Latency bins grow by 10% from 1 ms: 160 bins reach past an hour, each within ±5% of its middle. */
const growth = 1.1;
const binCount = 160;
const logGrowth = Math.log(growth);

function binOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(binCount - 1, Math.ceil(Math.log(ms) / logGrowth));
}

/** The geometric middle of a bin, rounded to 0.1 ms. */
function binValue(bin: number): number {
  return bin === 0 ? 1 : Math.round(growth ** (bin - 0.5) * 10) / 10;
}

interface Slice {
  /** Which bucket of time (`floor(now / bucketMs)`) this slice counts now. */
  bucket: number;
  successes: number;
  failures: number;
  latency: Uint32Array | undefined;
}

interface DeploymentState {
  slices: Slice[];
  lastError: LastError | undefined;
}

/**
 * Recent health per deployment for operators: success ratio and latency p50/p95 over sliding
 * windows (1 and 5 minutes by default, in 10-second slices), the last error, and the breaker state.
 * Memory is fixed per deployment (latency in log-scaled bins, not samples). Cancelled attempts are
 * the client's doing and are not counted; escalated answers count as successes (the deployment
 * answered). Deployment ids come from the policy, so their number is bounded.
 */
export class DeploymentHealth {
  readonly #bucketMs: number;
  readonly #windows: [string, number][];
  readonly #sliceCount: number;
  readonly #breakers: DeploymentHealthOptions['breakers'];
  readonly #known: DeploymentHealthOptions['deployments'];
  readonly #states = new Map<string, DeploymentState>();

  constructor(options: DeploymentHealthOptions = {}) {
    this.#bucketMs = options.bucketMs ?? 10_000;
    this.#windows = Object.entries(options.windows ?? { '1m': 60_000, '5m': 300_000 });
    const longest = Math.max(...this.#windows.map(([, ms]) => ms));
    this.#sliceCount = Math.max(1, Math.ceil(longest / this.#bucketMs));
    this.#breakers = options.breakers;
    this.#known = options.deployments;
  }

  /** Records one upstream attempt (call it from `onAttempt` with the attempt record). */
  recordAttempt(attempt: HealthAttempt, nowMs: number, errorMessage?: string): void {
    if (attempt.outcome === 'cancelled') return;
    const state = this.#stateOf(attempt.deploymentId);
    const slice = this.#sliceAt(state, nowMs);
    if (attempt.outcome === 'failed') {
      slice.failures++;
      state.lastError = {
        status: attempt.status,
        code: attempt.code,
        message: errorMessage === undefined ? undefined : redactSecretText(errorMessage).slice(0, 500),
        at: new Date(nowMs).toISOString(),
      };
      return;
    }
    slice.successes++;
    slice.latency ??= new Uint32Array(binCount);
    slice.latency[binOf(attempt.ms)]!++;
  }

  /** The health of one deployment now. */
  windowsOf(deploymentId: string, nowMs: number): Record<string, HealthWindow> {
    const state = this.#states.get(deploymentId);
    const current = Math.floor(nowMs / this.#bucketMs);
    const out: Record<string, HealthWindow> = {};
    for (const [name, ms] of this.#windows) {
      const oldest = current - Math.ceil(ms / this.#bucketMs) + 1;
      let successes = 0;
      let failures = 0;
      const latency = new Uint32Array(binCount);
      for (const slice of state?.slices ?? []) {
        if (slice.bucket < oldest || slice.bucket > current) continue;
        successes += slice.successes;
        failures += slice.failures;
        if (slice.latency) for (let i = 0; i < binCount; i++) latency[i]! += slice.latency[i]!;
      }
      const requests = successes + failures;
      out[name] = {
        requests,
        failures,
        successRatio: requests === 0 ? null : successes / requests,
        latencyMs: { p50: percentile(latency, successes, 0.5), p95: percentile(latency, successes, 0.95) },
      };
    }
    return out;
  }

  /** Every deployment seen or known, with windows, last error and breaker state. */
  async snapshot(nowMs: number): Promise<HealthSnapshot> {
    const ids = [...new Set([...(this.#known?.() ?? []), ...this.#states.keys()])].sort();
    let breakers: Readonly<Record<string, BreakerState>> | undefined;
    try {
      breakers = this.#breakers ? await this.#breakers(ids, nowMs) : undefined;
    } catch {
      breakers = undefined;
    }
    return {
      at: new Date(nowMs).toISOString(),
      deployments: ids.map((id) => ({
        id,
        breaker: breakers?.[id] ?? (this.#breakers && breakers ? 'closed' : 'unknown'),
        windows: this.windowsOf(id, nowMs),
        ...(this.#states.get(id)?.lastError ? { lastError: this.#states.get(id)!.lastError } : {}),
      })),
    };
  }

  #stateOf(id: string): DeploymentState {
    let state = this.#states.get(id);
    if (!state) {
      state = {
        slices: Array.from({ length: this.#sliceCount }, () => ({
          bucket: -1,
          successes: 0,
          failures: 0,
          latency: undefined,
        })),
        lastError: undefined,
      };
      this.#states.set(id, state);
    }
    return state;
  }

  #sliceAt(state: DeploymentState, nowMs: number): Slice {
    const bucket = Math.floor(nowMs / this.#bucketMs);
    const slice = state.slices[bucket % this.#sliceCount]!;
    if (slice.bucket !== bucket) {
      slice.bucket = bucket;
      slice.successes = 0;
      slice.failures = 0;
      slice.latency?.fill(0);
    }
    return slice;
  }
}

function percentile(bins: Uint32Array, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= rank) return binValue(i);
  }
  return binValue(bins.length - 1);
}
