import type { ResilienceSettings } from '@switchyard/engine';
import { UpstreamError } from '../providers/provider.ts';
import type { AttemptWrapper, UpstreamAttempt } from '../request/execute-plan.ts';

/** Gives back a concurrency slot; calling it more than once is harmless. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (err: UpstreamError) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal;
  onAbort: () => void;
}

interface Lane {
  active: number;
  waiting: Waiter[];
}

const saturated = (id: string, why: string, retryAfterMs: number) =>
  new UpstreamError(
    `deployment \`${id}\` is saturated: ${why}`,
    'status',
    503,
    'service_unavailable_error',
    'deployment_saturated',
    undefined,
    retryAfterMs,
  );

/**
 * Per-deployment concurrency with a bounded FIFO queue and a maximum wait: the upstream never sees
 * more than `maxConcurrent` calls from this gateway, at most `maxQueued` wait, none longer than
 * `maxWaitMs`. Beyond either bound the request is refused at once with a 503 and Retry-After,
 * so nothing on the request path grows without bound.
 */
export class DeploymentLimiter {
  private readonly lanes = new Map<string, Lane>();

  /** Current in-flight and queued counts per deployment (for metrics and health). */
  stats(): Map<string, { active: number; queued: number }> {
    return new Map([...this.lanes].map(([id, l]) => [id, { active: l.active, queued: l.waiting.length }]));
  }

  /** Waits for a slot on `deploymentId` (or refuses); the returned function gives it back. */
  acquire(
    deploymentId: string,
    settings: ResilienceSettings['queue'],
    maxConcurrent: number,
    signal: AbortSignal,
  ): Promise<Release> {
    let lane = this.lanes.get(deploymentId);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(deploymentId, lane);
    }
    const l = lane;
    if (l.active < maxConcurrent && l.waiting.length === 0) {
      l.active++;
      return Promise.resolve(this.releaser(deploymentId, l, maxConcurrent));
    }
    if (l.waiting.length >= settings.maxQueued || settings.maxWaitMs === 0) {
      return Promise.reject(
        saturated(
          deploymentId,
          `${l.active} in flight and ${l.waiting.length} queued`,
          Math.max(1000, settings.maxWaitMs),
        ),
      );
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        timer: setTimeout(() => {
          this.drop(l, waiter);
          reject(saturated(deploymentId, `waited ${settings.maxWaitMs} ms for a slot`, settings.maxWaitMs));
        }, settings.maxWaitMs),
        onAbort: () => {
          this.drop(l, waiter);
          reject(
            new UpstreamError(
              'the client closed the request',
              'aborted',
              499,
              'request_cancelled',
              'request_cancelled',
            ),
          );
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      l.waiting.push(waiter);
    });
  }

  private drop(lane: Lane, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    const i = lane.waiting.indexOf(waiter);
    if (i !== -1) lane.waiting.splice(i, 1);
  }

  private releaser(id: string, lane: Lane, maxConcurrent: number): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      lane.active--;
      const next = lane.waiting.shift();
      if (next && lane.active < maxConcurrent) {
        this.drop(lane, next);
        lane.active++;
        next.resolve(this.releaser(id, lane, maxConcurrent));
      } else if (next) lane.waiting.unshift(next);
      if (lane.active === 0 && lane.waiting.length === 0) this.lanes.delete(id);
    };
  }
}

/**
 * Runs each attempt inside a deployment slot. By default the slot is given back when the attempt
 * settles; `hold` keeps it for longer (a stream holds its slot until it ends).
 */
export function withDeploymentLimit<R>(
  limiter: DeploymentLimiter,
  settings: ResilienceSettings['queue'],
  hold?: (result: R, release: Release) => void,
): AttemptWrapper {
  return <T>(next: UpstreamAttempt<T>): UpstreamAttempt<T> =>
    async (target) => {
      const max = target.deployment.maxConcurrent ?? settings.maxConcurrent;
      const release = await limiter.acquire(target.deployment.id, settings, max, target.call.signal);
      let result: T;
      try {
        result = await next(target);
      } catch (err) {
        release();
        throw err;
      }
      if (hold) hold(result as unknown as R, release);
      else release();
      return result;
    };
}
