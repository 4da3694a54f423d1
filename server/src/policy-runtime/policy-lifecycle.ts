import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { LedgerStore } from '../stores/ledger-store.ts';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';
import type { AdapterFactory, PolicyHolder, PolicyLease } from './policy-holder.ts';
import { publishPolicyVersion } from './publish-policy-version.ts';
import { RolloutController } from './rollout-controller.ts';
import { type StickySubject, type VersionPick, VersionRouter } from './version-router.ts';

/** What `startPolicyLifecycle` needs. */
export interface PolicyLifecycleOptions {
  store: PolicyVersionStore;
  ledger: LedgerStore;
  /** The folder policy this process was started with (already loaded). */
  folder: PolicyHolder;
  logger: Logger;
  clock: Clock;
  createAdapter?: AdapterFactory | undefined;
  /** How often the rollout controller judges the current step (default 15 s). */
  tickMs?: number | undefined;
  /** How often the version router re-reads the store (default 5 s). */
  refreshMs?: number | undefined;
}

/** A request's hold on the policy serving it, and which arm of a rollout that is. */
export interface ServingLease extends PolicyLease {
  pick?: VersionPick | undefined;
}

/**
 * The serving side of the policy lifecycle in one running gateway: its folder policy published as
 * a version (idempotent: versions are keyed by content hash; the first becomes stable), a
 * `VersionRouter` that serves stable and candidate during a rollout, and the rollout controller
 * judging each step from the ledger. The folder serves while no rollout runs and the stable
 * pointer has not moved since start, so `--watch` and reloads keep working; once a rollout starts,
 * or a promotion moved the stable pointer, the router decides, the same on every replica.
 */
export class PolicyLifecycle {
  readonly router: VersionRouter;
  readonly controller: RolloutController;
  readonly store: PolicyVersionStore;
  readonly #folder: PolicyHolder;
  #stableAtStart: string | undefined;
  #stopTicking: (() => void) | undefined;

  private constructor(options: PolicyLifecycleOptions, name: string) {
    this.store = options.store;
    this.#folder = options.folder;
    this.router = new VersionRouter({
      store: options.store,
      name,
      logger: options.logger,
      clock: options.clock,
      createAdapter: options.createAdapter,
      refreshMs: options.refreshMs,
    });
    this.controller = new RolloutController({
      store: options.store,
      ledger: options.ledger,
      clock: options.clock,
    });
  }

  /** Publishes the folder policy, loads the router and starts the periodic refresh and judging. */
  static async start(options: PolicyLifecycleOptions): Promise<PolicyLifecycle> {
    const active = options.folder.active;
    if (!active) throw new Error('the policy must be loaded before its lifecycle starts');
    const name = active.policy.name;
    const lifecycle = new PolicyLifecycle(options, name);
    await publishPolicyVersion(options.store, active.policy.sources, {
      actor: 'switchyard serve',
      message: 'policy the gateway was started with',
      nowMs: options.clock.now(),
    });
    lifecycle.#stableAtStart = await options.store.stableVersion(name);
    await lifecycle.router.refresh();
    lifecycle.router.start();
    lifecycle.#stopTicking = lifecycle.controller.tickEvery(name, options.tickMs ?? 15_000, (err) =>
      options.logger.error({ err }, 'rollout tick failed'),
    );
    return lifecycle;
  }

  /** Whether the router decides which version serves (a rollout runs, or stable moved since start). */
  get routes(): boolean {
    const s = this.router.state;
    return (
      s.rolloutId !== undefined || (s.stableVersion !== undefined && s.stableVersion !== this.#stableAtStart)
    );
  }

  /** The policy serving a request from `who` (undefined when none is loaded). */
  acquire(who: StickySubject): ServingLease | undefined {
    if (this.routes) {
      const lease = this.router.acquire(who);
      if (lease) return { active: lease.active, release: lease.release, pick: lease };
    }
    return this.#folder.acquire();
  }

  /** Stops judging and refreshing, and closes the router's adapters. */
  async close(): Promise<void> {
    this.#stopTicking?.();
    await this.router.close();
  }
}
