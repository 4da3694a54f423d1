import type { DatabaseSync } from 'node:sqlite';
import { emptyShadowStats, type GateVerdict, type ShadowStats } from '@switchyard/engine';
import {
  auditFromRow,
  optionalString,
  type PolicyVersionRow,
  rolloutFromRow,
  versionFromRow,
} from '../policy-version-rows.ts';
import {
  type AuditEntry,
  assertValidVersion,
  type NewAuditEntry,
  type NewPolicyVersion,
  type PolicyVersion,
  type PolicyVersionStore,
  parseVersionRef,
  type RolloutCommit,
  type StoredRollout,
} from '../policy-version-store.ts';
import { migrate } from './migrations.ts';
import { policyVersionMigrations } from './policy-version-migrations.ts';

/**
 * The policy lifecycle in the SQLite state database (see `openStateDatabase`): the embedded default,
 * shared by a server and the CLI through the same file (WAL). Creating the store brings its tables
 * up to date. Every write runs in one immediate transaction, so a transition and its audit lines
 * land together. The database belongs to the caller: `close()` leaves it open.
 */
export class SqlitePolicyVersionStore implements PolicyVersionStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    migrate(db, policyVersionMigrations);
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec('begin immediate');
    try {
      const result = work();
      this.#db.exec('commit');
      return result;
    } catch (err) {
      this.#db.exec('rollback');
      throw err;
    }
  }

  #appendAudit(entry: NewAuditEntry): AuditEntry {
    const r = this.#db
      .prepare(
        'insert into policy_audit (at, actor, action, subject, reason, details) values (?, ?, ?, ?, ?, ?) returning seq',
      )
      .get(
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        entry.reason,
        entry.details === undefined ? null : JSON.stringify(entry.details),
      ) as PolicyVersionRow;
    return { ...entry, seq: Number(r.seq) };
  }

  async publish(
    version: NewPolicyVersion,
    context: { actor: string; nowMs: number },
  ): Promise<{ version: PolicyVersion; created: boolean }> {
    assertValidVersion(version);
    return this.#transaction(() => {
      const existing = this.#db.prepare('select * from policy_versions where hash = ?').get(version.hash) as
        | PolicyVersionRow
        | undefined;
      if (existing) return { version: versionFromRow(existing), created: false };
      this.#db
        .prepare(
          `insert into policy_versions (version, hash, name, files, git_commit, author, message, created_at)
           values (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          version.version,
          version.hash,
          version.name,
          JSON.stringify(version.files),
          version.gitCommit ?? null,
          version.author ?? null,
          version.message ?? null,
          context.nowMs,
        );
      this.#appendAudit({
        at: context.nowMs,
        actor: context.actor,
        action: 'version.published',
        subject: version.version,
        reason: version.message ?? `published ${version.name}@${version.version}`,
        details: { name: version.name, hash: version.hash, gitCommit: version.gitCommit },
      });
      const stable = this.#db.prepare('select 1 from policy_stable where name = ?').get(version.name);
      if (!stable) {
        this.#db
          .prepare('insert into policy_stable (name, version, updated_at) values (?, ?, ?)')
          .run(version.name, version.version, context.nowMs);
        this.#appendAudit({
          at: context.nowMs,
          actor: context.actor,
          action: 'stable.set',
          subject: version.version,
          reason: `first published version of \`${version.name}\``,
        });
      }
      const row = this.#db
        .prepare('select * from policy_versions where hash = ?')
        .get(version.hash) as PolicyVersionRow;
      return { version: versionFromRow(row), created: true };
    });
  }

  async get(ref: string): Promise<PolicyVersion | undefined> {
    const parsed = parseVersionRef(ref);
    if (!parsed) return undefined;
    const column = parsed.prefix.length > 12 ? 'hash' : 'version';
    const rows = this.#db
      .prepare(
        `select * from policy_versions where ${column} like ? ${parsed.name ? 'and name = ?' : ''} order by seq limit 2`,
      )
      .all(...[`${parsed.prefix}%`, ...(parsed.name ? [parsed.name] : [])]) as PolicyVersionRow[];
    if (rows.length > 1) throw new Error(`version prefix \`${ref}\` is ambiguous; give more digits`);
    return rows[0] ? versionFromRow(rows[0]) : undefined;
  }

  async list(
    filter: { name?: string | undefined; limit?: number | undefined } = {},
  ): Promise<PolicyVersion[]> {
    const rows = this.#db
      .prepare(
        `select * from policy_versions ${filter.name ? 'where name = ?' : ''} order by seq desc limit ?`,
      )
      .all(...[...(filter.name ? [filter.name] : []), filter.limit ?? 100]) as PolicyVersionRow[];
    return rows.map(versionFromRow);
  }

  async attachVerdict(
    version: string,
    verdict: GateVerdict,
    context: { actor: string; nowMs: number },
  ): Promise<'attached' | 'already' | 'not_found'> {
    return this.#transaction(() => {
      const row = this.#db.prepare('select verdict from policy_versions where version = ?').get(version) as
        | PolicyVersionRow
        | undefined;
      if (!row) return 'not_found';
      if (row.verdict !== null && row.verdict !== undefined) return 'already';
      this.#db
        .prepare('update policy_versions set verdict = ? where version = ?')
        .run(JSON.stringify(verdict), version);
      this.#appendAudit({
        at: context.nowMs,
        actor: context.actor,
        action: 'version.verdict',
        subject: version,
        reason: `gate ${verdict.pass ? 'passed' : 'failed'}: ${verdict.summary}`,
        details: { pass: verdict.pass, baseline: verdict.baseline },
      });
      return 'attached';
    });
  }

  async stableVersion(name: string): Promise<string | undefined> {
    const row = this.#db.prepare('select version from policy_stable where name = ?').get(name) as
      | PolicyVersionRow
      | undefined;
    return optionalString(row?.version);
  }

  async commitRollout(commit: RolloutCommit): Promise<boolean> {
    const { state } = commit;
    return this.#transaction(() => {
      if (commit.expectedRevision === undefined) {
        const active = this.#db
          .prepare(
            "select 1 from policy_rollouts where name = ? and status in ('running', 'paused') or id = ? limit 1",
          )
          .get(state.policyName, state.id);
        if (active) return false;
        this.#db
          .prepare(
            'insert into policy_rollouts (id, name, status, state, revision, updated_at) values (?, ?, ?, ?, 1, ?)',
          )
          .run(state.id, state.policyName, state.status, JSON.stringify(state), state.updatedAtMs);
      } else {
        const changed = this.#db
          .prepare(
            'update policy_rollouts set status = ?, state = ?, revision = revision + 1, updated_at = ? where id = ? and revision = ?',
          )
          .run(state.status, JSON.stringify(state), state.updatedAtMs, state.id, commit.expectedRevision);
        if (Number(changed.changes) === 0) return false;
      }
      if (commit.stableVersion !== undefined)
        this.#db
          .prepare(
            `insert into policy_stable (name, version, updated_at) values (?, ?, ?)
             on conflict (name) do update set version = excluded.version, updated_at = excluded.updated_at`,
          )
          .run(state.policyName, commit.stableVersion, state.updatedAtMs);
      for (const entry of commit.audit) this.#appendAudit(entry);
      return true;
    });
  }

  async getRollout(id: string): Promise<StoredRollout | undefined> {
    const row = this.#db.prepare('select * from policy_rollouts where id = ?').get(id) as
      | PolicyVersionRow
      | undefined;
    return row ? rolloutFromRow(row) : undefined;
  }

  async activeRollout(name: string): Promise<StoredRollout | undefined> {
    const row = this.#db
      .prepare(
        "select * from policy_rollouts where name = ? and status in ('running', 'paused') order by seq desc limit 1",
      )
      .get(name) as PolicyVersionRow | undefined;
    return row ? rolloutFromRow(row) : undefined;
  }

  async listRollouts(
    filter: { name?: string | undefined; limit?: number | undefined } = {},
  ): Promise<StoredRollout[]> {
    const rows = this.#db
      .prepare(
        `select * from policy_rollouts ${filter.name ? 'where name = ?' : ''} order by seq desc limit ?`,
      )
      .all(...[...(filter.name ? [filter.name] : []), filter.limit ?? 100]) as PolicyVersionRow[];
    return rows.map(rolloutFromRow);
  }

  async addShadowStats(rolloutId: string, stepIndex: number, delta: ShadowStats): Promise<void> {
    this.#db
      .prepare(
        `insert into policy_rollout_shadow
           (rollout_id, step_index, requests, rerouted, new_denials, stable_cost_usd, predicted_cost_usd)
         values (?, ?, ?, ?, ?, ?, ?)
         on conflict (rollout_id, step_index) do update set
           requests = requests + excluded.requests,
           rerouted = rerouted + excluded.rerouted,
           new_denials = new_denials + excluded.new_denials,
           stable_cost_usd = stable_cost_usd + excluded.stable_cost_usd,
           predicted_cost_usd = predicted_cost_usd + excluded.predicted_cost_usd`,
      )
      .run(
        rolloutId,
        stepIndex,
        delta.requests,
        delta.rerouted,
        delta.newDenials,
        delta.stableCostUsd,
        delta.predictedCostUsd,
      );
  }

  async shadowStats(rolloutId: string, stepIndex: number): Promise<ShadowStats> {
    const r = this.#db
      .prepare('select * from policy_rollout_shadow where rollout_id = ? and step_index = ?')
      .get(rolloutId, stepIndex) as PolicyVersionRow | undefined;
    if (!r) return { ...emptyShadowStats };
    return {
      requests: Number(r.requests),
      rerouted: Number(r.rerouted),
      newDenials: Number(r.new_denials),
      stableCostUsd: Number(r.stable_cost_usd),
      predictedCostUsd: Number(r.predicted_cost_usd),
    };
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.#appendAudit(entry);
  }

  async audit(
    filter: {
      subjects?: readonly string[] | undefined;
      afterSeq?: number | undefined;
      limit?: number | undefined;
    } = {},
  ): Promise<AuditEntry[]> {
    const where: string[] = ['seq > ?'];
    const params: (string | number)[] = [filter.afterSeq ?? 0];
    if (filter.subjects) {
      if (filter.subjects.length === 0) return [];
      where.push(`subject in (${filter.subjects.map(() => '?').join(', ')})`);
      params.push(...filter.subjects);
    }
    params.push(filter.limit ?? 1000);
    const rows = this.#db
      .prepare(`select * from policy_audit where ${where.join(' and ')} order by seq limit ?`)
      .all(...params) as PolicyVersionRow[];
    return rows.map(auditFromRow);
  }

  /** The database belongs to whoever opened it; nothing to release here. */
  async close(): Promise<void> {}
}
