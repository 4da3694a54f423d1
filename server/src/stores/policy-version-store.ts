import type { GateVerdict, PolicyFile, RolloutState, ShadowStats } from '@switchyard/engine';

/**
 * An immutable, published policy version: the files it was compiled from, where they came from,
 * and (attached once, later) the eval gate's verdict.
 */
export interface PolicyVersion {
  /** The compiled policy's `version`: the first 12 hex digits of `hash`. */
  version: string;
  /** SHA-256 of the canonical policy: the same meaning always has the same hash. */
  hash: string;
  /** The policy's `name`. */
  name: string;
  /** The source files, paths relative to the policy folder. */
  files: PolicyFile[];
  gitCommit?: string | undefined;
  author?: string | undefined;
  message?: string | undefined;
  /** Epoch ms when first published. */
  createdAt: number;
  verdict?: GateVerdict | undefined;
}

/** What publishing records (the store adds `createdAt`). */
export type NewPolicyVersion = Omit<PolicyVersion, 'createdAt' | 'verdict'>;

/** One line of the audit log: who did what to which version or rollout, why, and when. */
export interface AuditEntry {
  /** Increasing; the log's order. */
  seq: number;
  /** Epoch ms. */
  at: number;
  /** A person (`alice`), a token name, or a component (`rollout-controller`). */
  actor: string;
  /** e.g. `version.published`, `version.verdict`, `stable.set`, `rollout.started`, `rollout.rolled_back`. */
  action: string;
  /** What it was done to: a version id or a rollout id. */
  subject: string;
  /** Why, in one line. */
  reason: string;
  details?: Record<string, unknown> | undefined;
}

/** An audit entry before the store numbers it. */
export type NewAuditEntry = Omit<AuditEntry, 'seq'>;

/** A rollout as stored: its state plus the revision every update must name (compare-and-set). */
export interface StoredRollout {
  state: RolloutState;
  /** 1 when created; each committed update adds 1. */
  revision: number;
}

/** One atomic change to a rollout: the new state, the audit lines saying why, maybe a new stable version. */
export interface RolloutCommit {
  state: RolloutState;
  /** The revision read before deciding; undefined to create the rollout. */
  expectedRevision?: number | undefined;
  /** Moves the policy's stable pointer in the same transaction (promotion). */
  stableVersion?: string | undefined;
  audit: readonly NewAuditEntry[];
}

/**
 * Policy versions, the stable pointer per policy name, rollouts, shadow tallies and the append-only
 * audit log: the state of the policy lifecycle, shared by every replica and the CLI. Every write
 * that moves traffic (a rollout transition, a new stable version) lands together with its audit
 * lines or not at all. Callers pass the time; the store never reads the clock.
 */
export interface PolicyVersionStore {
  /**
   * Records a version; publishing a hash already stored returns the stored version unchanged
   * (`created: false`). The first version of a policy name also becomes its stable version.
   */
  publish(
    version: NewPolicyVersion,
    context: { actor: string; nowMs: number },
  ): Promise<{ version: PolicyVersion; created: boolean }>;
  /** A version by its id, by a unique prefix of it (at least 4 hex digits), or by `name@version`. */
  get(ref: string): Promise<PolicyVersion | undefined>;
  /** Versions, newest first. */
  list(filter?: { name?: string | undefined; limit?: number | undefined }): Promise<PolicyVersion[]>;
  /**
   * Attaches the gate verdict to a version, once: `attached`, `already` (a verdict is there and is
   * kept), or `not_found`. Audited as `version.verdict`.
   */
  attachVerdict(
    version: string,
    verdict: GateVerdict,
    context: { actor: string; nowMs: number },
  ): Promise<'attached' | 'already' | 'not_found'>;
  /** The stable version of a policy name, if any version of it was published. */
  stableVersion(name: string): Promise<string | undefined>;
  /**
   * Creates or updates a rollout if its revision is still `expectedRevision` (and, on create, no
   * other rollout of the policy is running or paused), appending its audit lines and moving the
   * stable pointer when asked, in one transaction. False when another writer got there first.
   */
  commitRollout(commit: RolloutCommit): Promise<boolean>;
  /** A rollout by id. */
  getRollout(id: string): Promise<StoredRollout | undefined>;
  /** The running or paused rollout of a policy name, if there is one. */
  activeRollout(name: string): Promise<StoredRollout | undefined>;
  /** Rollouts, newest first. */
  listRollouts(filter?: { name?: string | undefined; limit?: number | undefined }): Promise<StoredRollout[]>;
  /** Adds to the shadow tally of a rollout's step (replicas add what they saw since their last flush). */
  addShadowStats(rolloutId: string, stepIndex: number, delta: ShadowStats): Promise<void>;
  /** The shadow tally of a rollout's step (zeros when nothing was added). */
  shadowStats(rolloutId: string, stepIndex: number): Promise<ShadowStats>;
  /** Appends to the audit log (for actions outside rollouts, e.g. a refused start). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Audit entries in log order, optionally for one subject (or subjects) and after a seq. */
  audit(filter?: {
    subjects?: readonly string[] | undefined;
    afterSeq?: number | undefined;
    limit?: number | undefined;
  }): Promise<AuditEntry[]>;
  /** Releases what the store holds (not a connection or database it was given). */
  close(): Promise<void>;
}

/** Whether a reference names a version: hex digits (4–64), optionally after `name@`. */
export function parseVersionRef(ref: string): { name?: string | undefined; prefix: string } | undefined {
  const m = /^(?:([a-zA-Z0-9][a-zA-Z0-9._-]*)@)?([0-9a-f]{4,64})$/.exec(ref.trim());
  if (!m) return undefined;
  return { name: m[1], prefix: m[2]! };
}

/** Checks a version before it is stored: the id is the hash's first 12 digits, files are there. */
export function assertValidVersion(version: NewPolicyVersion): void {
  if (!/^[0-9a-f]{64}$/.test(version.hash))
    throw new Error(`expected \`hash\` to be 64 hex digits, got \`${version.hash}\``);
  if (version.version !== version.hash.slice(0, 12))
    throw new Error(
      `expected \`version\` to be the first 12 digits of the hash (\`${version.hash.slice(0, 12)}\`), got \`${version.version}\``,
    );
  if (version.files.length === 0) throw new Error('a policy version needs at least one file');
}
