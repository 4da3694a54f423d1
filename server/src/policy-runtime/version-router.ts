import {
  assignVersion,
  type CompiledPolicy,
  currentStep,
  type Decision,
  isRolloutActive,
  observeShadow,
  type RolloutState,
  type ShadowUsage,
} from '@switchyard/engine';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';
import { type ActivePolicy, type AdapterFactory, PolicyHolder } from './policy-holder.ts';
import { ShadowTally } from './shadow-tally.ts';

/** Who a request comes from: what a rollout's `stickyBy` hashes on. */
export interface StickySubject {
  tenant: string;
  keyId: string;
  /** The end user the client named; a rollout sticky by user falls back to the key without one. */
  user?: string | undefined;
}

/** The rollout a request was routed under. */
export interface RoutedRollout {
  id: string;
  stepIndex: number;
  /** The candidate's share of traffic, 0–100. */
  percent: number;
}

/** Which policy serves a request. */
export interface VersionPick {
  policy: CompiledPolicy;
  arm: 'stable' | 'candidate';
  /** Set while a rollout is running or paused. */
  rollout?: RoutedRollout | undefined;
  /** In a shadow step: the candidate, to decide the same request with (never to execute). */
  shadow?: CompiledPolicy | undefined;
}

/** A request's hold on the version that serves it (with its provider bindings); release it once the response ended. */
export interface VersionLease extends VersionPick {
  active: ActivePolicy;
  release(): void;
}

/** What the router serves now. */
export interface VersionRouterState {
  stableVersion?: string | undefined;
  candidateVersion?: string | undefined;
  rolloutId?: string | undefined;
  status?: RolloutState['status'] | undefined;
  stepIndex?: number | undefined;
  percent: number;
  shadow: boolean;
  stickyBy: RolloutState['plan']['stickyBy'];
}

/** Options of `VersionRouter`. */
export interface VersionRouterOptions {
  store: PolicyVersionStore;
  /** The policy name this gateway serves. */
  name: string;
  logger: Logger;
  clock: Clock;
  /** Where `${env:…}` references are resolved (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Creates provider adapters (default: the built-in adapters). */
  createAdapter?: AdapterFactory;
  /** How often `start()` re-reads the store, in ms (default 5000). */
  refreshMs?: number;
}

interface Routing {
  state: VersionRouterState;
  rollout?: RolloutState | undefined;
}

const idle: Routing = { state: { percent: 0, shadow: false, stickyBy: 'key' } };

/**
 * Serves published versions of one policy: the stable one, and during a rollout the candidate to
 * the rollout's share of callers. Each request is assigned with the engine's `assignVersion` over
 * its sticky value (tenant, key or user) salted with the rollout id, so a caller stays on one
 * version and every replica agrees without talking to the others. The router re-reads the stable
 * pointer and the active rollout from the store (`refresh()`, periodically after `start()`), so a
 * promotion or a rollback done anywhere reaches every replica within one refresh interval.
 */
export class VersionRouter {
  readonly #options: VersionRouterOptions;
  readonly #stable: PolicyHolder;
  readonly #candidate: PolicyHolder;
  readonly #shadow = new ShadowTally();
  #routing: Routing = idle;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<VersionRouterState> | undefined;

  constructor(options: VersionRouterOptions) {
    this.#options = options;
    const holderOptions = {
      logger: options.logger,
      clock: options.clock,
      env: options.env,
      createAdapter: options.createAdapter,
    };
    this.#stable = new PolicyHolder(`store:${options.name}@stable`, holderOptions);
    this.#candidate = new PolicyHolder(`store:${options.name}@candidate`, holderOptions);
  }

  /** The policy name this router serves versions of. */
  get name(): string {
    return this.#options.name;
  }

  /** What the router serves now. */
  get state(): VersionRouterState {
    return this.#routing.state;
  }

  /**
   * Which policy serves a request from `who`: the candidate when a rollout is running or paused
   * and the caller's sticky bucket falls within its share, else the stable version (undefined
   * until a stable version is loaded). In a shadow step the stable version serves and `shadow`
   * carries the candidate.
   */
  pick(who: StickySubject): VersionPick | undefined {
    const lease = this.#choose(who);
    return lease && { policy: lease.policy, arm: lease.arm, rollout: lease.rollout, shadow: lease.shadow };
  }

  /** Like `pick`, holding the chosen version (and its provider adapters) until `release()`. */
  acquire(who: StickySubject): VersionLease | undefined {
    const choice = this.#choose(who);
    if (!choice) return undefined;
    const lease = (choice.arm === 'candidate' ? this.#candidate : this.#stable).acquire();
    if (!lease) return undefined;
    return { ...choice, active: lease.active, release: lease.release };
  }

  #choose(who: StickySubject): VersionPick | undefined {
    const { state, rollout } = this.#routing;
    const stable = this.#stable.active?.policy;
    if (!stable || stable.version !== state.stableVersion) return stable && { policy: stable, arm: 'stable' };
    const candidate = this.#candidate.active?.policy;
    if (!rollout || !candidate || candidate.version !== state.candidateVersion)
      return { policy: stable, arm: 'stable' };
    const routed: RoutedRollout = { id: rollout.id, stepIndex: state.stepIndex ?? 0, percent: state.percent };
    if (state.shadow) return { policy: stable, arm: 'stable', rollout: routed, shadow: candidate };
    const sticky =
      state.stickyBy === 'tenant'
        ? who.tenant
        : state.stickyBy === 'user'
          ? (who.user ?? who.keyId)
          : who.keyId;
    const arm = assignVersion(sticky, rollout.id, state.percent);
    return { policy: arm === 'candidate' ? candidate : stable, arm, rollout: routed };
  }

  /**
   * Records what the shadow candidate would have done with a request the stable version served:
   * call it from the account step with both decisions and the usage. Summed in memory, written
   * to the store on the next refresh.
   */
  observeShadow(pick: VersionPick, served: Decision, shadow: Decision, usage?: ShadowUsage): void {
    if (!pick.rollout || !pick.shadow) return;
    this.#shadow.add(pick.rollout.id, pick.rollout.stepIndex, observeShadow(served, shadow, usage));
  }

  /**
   * Re-reads the stable pointer and the active rollout, loads versions not loaded yet and swaps the
   * routing at once. A version that does not compile here (an `${env:…}` it needs is missing)
   * keeps the previous routing and is logged. Also writes the pending shadow tally.
   */
  refresh(): Promise<VersionRouterState> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<VersionRouterState> {
    const { store, name, logger } = this.#options;
    await this.#shadow
      .flush(store)
      .catch((err: unknown) =>
        logger.warn({ err }, 'writing the shadow tally failed; kept for the next refresh'),
      );
    const stableVersion = await store.stableVersion(name);
    if (!stableVersion) return this.#routing.state;
    const active = await store.activeRollout(name);
    if (!(await this.#ensure(this.#stable, stableVersion))) return this.#routing.state;
    const rollout = active && isRolloutActive(active.state) ? active.state : undefined;
    let candidateReady = false;
    if (rollout) candidateReady = await this.#ensure(this.#candidate, rollout.candidateVersion);
    const next: Routing =
      rollout && candidateReady
        ? {
            rollout,
            state: {
              stableVersion,
              candidateVersion: rollout.candidateVersion,
              rolloutId: rollout.id,
              status: rollout.status,
              stepIndex: rollout.stepIndex,
              percent: currentStep(rollout).percent,
              shadow: currentStep(rollout).shadow,
              stickyBy: rollout.plan.stickyBy,
            },
          }
        : { state: { stableVersion, percent: 0, shadow: false, stickyBy: 'key' } };
    const before = this.#routing.state;
    if (
      before.stableVersion !== next.state.stableVersion ||
      before.candidateVersion !== next.state.candidateVersion ||
      before.percent !== next.state.percent ||
      before.shadow !== next.state.shadow
    )
      logger.info({ policy: name, ...next.state }, 'version routing changed');
    this.#routing = next;
    return next.state;
  }

  /** Loads `version` into `holder` unless it is there already; false when it cannot be served. */
  async #ensure(holder: PolicyHolder, version: string): Promise<boolean> {
    if (holder.active?.policy.version === version) return true;
    const record = await this.#options.store.get(version);
    if (!record) {
      this.#options.logger.error({ version }, 'policy version not found in the store');
      return false;
    }
    const result = await holder.load(record.files);
    if (!result.ok) return false;
    if (result.policy.version !== version) {
      this.#options.logger.error(
        { version, compiled: result.policy.version },
        'a stored version compiles to another version; not serving it',
      );
      return false;
    }
    return true;
  }

  /** Refreshes every `refreshMs` (timer does not keep the process alive), logging failures. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#options.logger.error({ err }, 'version refresh failed'));
    }, this.#options.refreshMs ?? 5_000);
    this.#timer.unref();
  }

  /** Stops refreshing, writes the shadow tally, closes the adapters (after the last request ended). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing?.catch(() => undefined);
    await this.#shadow.flush(this.#options.store).catch(() => undefined);
    await Promise.all([this.#stable.close(), this.#candidate.close()]);
  }
}
