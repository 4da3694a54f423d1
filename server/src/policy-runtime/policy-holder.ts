import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import {
  type CompiledPolicy,
  compilePolicy,
  type Diagnostic,
  formatDiagnostic,
  type PolicyFile,
  type ProviderSpec,
  resolveEnvRefs,
} from '@switchyard/engine';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { ProviderAdapter } from '../providers/provider.ts';
import type { ProviderBinding } from '../request/execute-plan.ts';
import { loadPolicyFolder } from './load-policy-folder.ts';

/** A compiled policy ready to serve: its provider bindings are created and shared across reloads. */
export interface ActivePolicy {
  readonly policy: CompiledPolicy;
  readonly providers: ReadonlyMap<string, ProviderBinding>;
  readonly loadedAtMs: number;
}

/** A request's hold on the policy it started with; `release()` once the response has ended. */
export interface PolicyLease {
  readonly active: ActivePolicy;
  release(): void;
}

/** The outcome of a reload: the new policy (or the unchanged one), or every error found. */
export type ReloadResult =
  | { ok: true; policy: CompiledPolicy; changed: boolean; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };

/** Creates the adapter of one policy provider; may throw when the declaration cannot work. */
export type AdapterFactory = (
  spec: ProviderSpec,
  name: string,
  options: { connectTimeoutMs: number },
) => ProviderAdapter;

/** Options of the policy holder. */
export interface PolicyHolderOptions {
  logger: Logger;
  clock: Clock;
  /** Where `${env:…}` references are resolved (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Creates provider adapters (default `createProviderAdapter`). */
  createAdapter?: AdapterFactory;
}

interface SharedAdapter {
  binding: ProviderBinding;
  fingerprint: string;
  /** Generations using it that have not drained yet. */
  refs: number;
}

interface Generation {
  active: ActivePolicy;
  adapters: SharedAdapter[];
  inFlight: number;
  retired: boolean;
}

/**
 * Holds the policy the gateway serves. A request captures the active policy once (`acquire`) and
 * finishes on it; `reload()` compiles the folder again and swaps atomically, or refuses an invalid
 * policy and keeps serving the previous one. Provider adapters are reused across reloads while
 * their provider declaration is unchanged; one that is no longer used is closed once the last
 * request on an older policy has finished.
 */
export class PolicyHolder {
  /** The policy folder (or single file). */
  readonly source: string;
  private readonly options: PolicyHolderOptions;
  #current: Generation | undefined;
  readonly #adapters = new Map<string, SharedAdapter>();
  #reloading: Promise<ReloadResult> = Promise.resolve({ ok: false, errors: [], warnings: [] });
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #createAdapter: AdapterFactory | undefined;

  constructor(source: string, options: PolicyHolderOptions) {
    this.source = source;
    this.options = options;
    this.#env = options.env ?? process.env;
    this.#createAdapter = options.createAdapter;
  }

  /** The policy new requests get, if one is loaded. */
  get active(): ActivePolicy | undefined {
    return this.#current?.active;
  }

  /** Captures the active policy for one request; undefined while none is loaded. */
  acquire(): PolicyLease | undefined {
    const generation = this.#current;
    if (!generation) return undefined;
    generation.inFlight++;
    let released = false;
    return {
      active: generation.active,
      release: () => {
        if (released) return;
        released = true;
        generation.inFlight--;
        if (generation.retired && generation.inFlight === 0) this.#drop(generation);
      },
    };
  }

  /** Compiles the policy folder and swaps it in when valid; concurrent calls run one after another. */
  reload(): Promise<ReloadResult> {
    this.#reloading = this.#reloading.then(
      () => this.#load(),
      () => this.#load(),
    );
    return this.#reloading;
  }

  /**
   * Compiles the given files (a published version, not the folder) and swaps them in when valid,
   * with the same guarantees as `reload()`; queued after any reload in progress.
   */
  load(files: readonly PolicyFile[]): Promise<ReloadResult> {
    this.#reloading = this.#reloading.then(
      () => this.#apply(files),
      () => this.#apply(files),
    );
    return this.#reloading;
  }

  /** Reloads whenever a file of the policy folder changes (debounced), logging the outcome. */
  watch(debounceMs = 250): void {
    if (this.#watcher) return;
    this.#watcher = watch(this.source, { persistent: false }, () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.reload().catch((err: unknown) => this.options.logger.error({ err }, 'policy reload failed'));
      }, debounceMs);
    });
    this.#watcher.on('error', (err) =>
      this.options.logger.warn({ err }, 'stopped watching the policy folder'),
    );
  }

  /** Stops watching and closes every adapter (call after the last request has ended). */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#debounce);
    const adapters = [...this.#adapters.values()];
    this.#adapters.clear();
    this.#current = undefined;
    await Promise.allSettled(adapters.map((a) => a.binding.adapter.close()));
  }

  async #load(): Promise<ReloadResult> {
    const { logger } = this.options;
    let files: Awaited<ReturnType<typeof loadPolicyFolder>>;
    try {
      files = await loadPolicyFolder(this.source);
    } catch (err) {
      const errors: Diagnostic[] = [
        {
          file: this.source,
          line: 1,
          col: 1,
          code: 'SY_POLICY_NO_FILES',
          severity: 'error',
          message: (err as Error).message,
        },
      ];
      logger.error({ errors: errors.map(formatDiagnostic) }, 'policy not loaded; keeping the running policy');
      return { ok: false, errors, warnings: [] };
    }
    return this.#apply(files);
  }

  async #apply(files: readonly PolicyFile[]): Promise<ReloadResult> {
    const { logger } = this.options;
    const result = compilePolicy(files, {
      definedEnv: new Set(Object.keys(this.#env).filter((k) => this.#env[k] !== undefined)),
    });
    for (const w of result.warnings) logger.warn(formatDiagnostic(w));
    if (!result.ok) {
      logger.error(
        { errors: result.errors.map(formatDiagnostic) },
        'policy is invalid; keeping the running policy',
      );
      return { ok: false, errors: result.errors, warnings: result.warnings };
    }
    const previous = this.#current;
    if (previous && previous.active.policy.hash === result.policy.hash) {
      return { ok: true, policy: previous.active.policy, changed: false, warnings: result.warnings };
    }
    if (!this.#createAdapter) {
      // Loaded on first use so that tools that only compile policies never load the adapters.
      const { createProviderAdapter } = await import('../providers/create-provider-adapter.ts');
      this.#createAdapter = (spec, _name, options) => createProviderAdapter(spec, options);
    }
    try {
      this.#swap(result.policy, this.#createAdapter);
    } catch (err) {
      const file = result.policy.sources[0]?.path ?? this.source;
      const errors: Diagnostic[] = [
        {
          file,
          line: 1,
          col: 1,
          code: 'SY_POLICY_INVALID_VALUE',
          severity: 'error',
          message: (err as Error).message,
        },
      ];
      logger.error(
        { errors: errors.map(formatDiagnostic) },
        'policy providers cannot start; keeping the running policy',
      );
      return { ok: false, errors, warnings: result.warnings };
    }
    logger.info({ policy: result.policy.id, previous: previous?.active.policy.id }, 'policy loaded');
    return { ok: true, policy: result.policy, changed: true, warnings: result.warnings };
  }

  #swap(policy: CompiledPolicy, createAdapter: AdapterFactory): void {
    const providers = new Map<string, ProviderBinding>();
    const used: SharedAdapter[] = [];
    const connectTimeoutMs = policy.spec.resilience.timeouts.connectMs;
    const created: SharedAdapter[] = [];
    try {
      for (const [name, spec] of Object.entries(policy.spec.providers)) {
        const resolved = this.#resolve(spec);
        const fingerprint = createHash('sha256')
          .update(JSON.stringify({ spec, connectTimeoutMs, ...resolved }))
          .digest('hex');
        let shared = this.#adapters.get(name);
        if (!shared || shared.fingerprint !== fingerprint) {
          shared = {
            binding: { adapter: createAdapter(spec, name, { connectTimeoutMs }), ...resolved },
            fingerprint,
            refs: 0,
          };
          created.push(shared);
        }
        used.push(shared);
        providers.set(name, shared.binding);
      }
    } catch (err) {
      for (const s of created) s.binding.adapter.close().catch(() => undefined);
      throw new Error(`a provider cannot start: ${(err as Error).message}`);
    }
    // Only now, with every adapter created, does anything shared change.
    for (const shared of used) shared.refs++;
    for (const [name, binding] of providers) {
      const shared = used.find((s) => s.binding === binding)!;
      // A replaced adapter stays alive in the generations that still use it.
      this.#adapters.set(name, shared);
    }
    const previous = this.#current;
    this.#current = {
      active: Object.freeze({ policy, providers, loadedAtMs: this.options.clock.now() }),
      adapters: used,
      inFlight: 0,
      retired: false,
    };
    if (previous) {
      previous.retired = true;
      if (previous.inFlight === 0) this.#drop(previous);
    }
  }

  #drop(generation: Generation): void {
    for (const shared of generation.adapters) {
      shared.refs--;
      if (shared.refs > 0) continue;
      for (const [name, s] of this.#adapters) if (s === shared) this.#adapters.delete(name);
      shared.binding.adapter
        .close()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'closing a provider adapter failed'));
    }
    generation.adapters = [];
  }

  #resolve(spec: ProviderSpec): Omit<ProviderBinding, 'adapter'> {
    const env = this.#env;
    const headers = spec.headers
      ? Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, resolveEnvRefs(v, env)]))
      : undefined;
    return {
      apiKey: spec.apiKey ? resolveEnvRefs(spec.apiKey, env) || undefined : undefined,
      baseUrl: spec.baseUrl ? resolveEnvRefs(spec.baseUrl, env) || undefined : undefined,
      headers,
    };
  }
}
