import { emptyShadowStats, type GateVerdict, type ShadowStats } from '@switchyard/engine';
import type { Pool, PoolClient } from 'pg';
import { auditFromRow, optionalString, rolloutFromRow, versionFromRow } from '../policy-version-rows.ts';
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

/**
 * The policy lifecycle in Postgres (tables from `migratePostgres`), shared by replicas and the CLI.
 * Writes that move traffic run in one transaction under an advisory lock of the policy name, so two
 * replicas starting a rollout at once cannot both succeed; updates are compare-and-set on the
 * rollout's revision. The pool belongs to the caller: `close()` leaves it open.
 */
export class PostgresPolicyVersionStore implements PolicyVersionStore {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  async #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      try {
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback');
        throw err;
      }
    } finally {
      client.release();
    }
  }

  async #lockName(client: PoolClient, name: string): Promise<void> {
    await client.query("select pg_advisory_xact_lock(hashtext('switchyard:policy:' || $1))", [name]);
  }

  async #appendAudit(client: PoolClient | Pool, entry: NewAuditEntry): Promise<AuditEntry> {
    const { rows } = await client.query(
      `insert into policy_audit (at, actor, action, subject, reason, details)
       values ($1, $2, $3, $4, $5, $6) returning seq`,
      [
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        entry.reason,
        entry.details === undefined ? null : JSON.stringify(entry.details),
      ],
    );
    return { ...entry, seq: Number(rows[0].seq) };
  }

  async publish(
    version: NewPolicyVersion,
    context: { actor: string; nowMs: number },
  ): Promise<{ version: PolicyVersion; created: boolean }> {
    assertValidVersion(version);
    return this.#transaction(async (client) => {
      await this.#lockName(client, version.name);
      const existing = await client.query('select * from policy_versions where hash = $1', [version.hash]);
      if (existing.rows[0]) return { version: versionFromRow(existing.rows[0]), created: false };
      const { rows } = await client.query(
        `insert into policy_versions (version, hash, name, files, git_commit, author, message, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
        [
          version.version,
          version.hash,
          version.name,
          JSON.stringify(version.files),
          version.gitCommit ?? null,
          version.author ?? null,
          version.message ?? null,
          context.nowMs,
        ],
      );
      await this.#appendAudit(client, {
        at: context.nowMs,
        actor: context.actor,
        action: 'version.published',
        subject: version.version,
        reason: version.message ?? `published ${version.name}@${version.version}`,
        details: { name: version.name, hash: version.hash, gitCommit: version.gitCommit },
      });
      const stable = await client.query(
        `insert into policy_stable (name, version, updated_at) values ($1, $2, $3)
         on conflict (name) do nothing returning name`,
        [version.name, version.version, context.nowMs],
      );
      if (stable.rowCount)
        await this.#appendAudit(client, {
          at: context.nowMs,
          actor: context.actor,
          action: 'stable.set',
          subject: version.version,
          reason: `first published version of \`${version.name}\``,
        });
      return { version: versionFromRow(rows[0]), created: true };
    });
  }

  async get(ref: string): Promise<PolicyVersion | undefined> {
    const parsed = parseVersionRef(ref);
    if (!parsed) return undefined;
    const column = parsed.prefix.length > 12 ? 'hash' : 'version';
    const params = [`${parsed.prefix}%`, ...(parsed.name ? [parsed.name] : [])];
    const { rows } = await this.#pool.query(
      `select * from policy_versions where ${column} like $1 ${parsed.name ? 'and name = $2' : ''} order by seq limit 2`,
      params,
    );
    if (rows.length > 1) throw new Error(`version prefix \`${ref}\` is ambiguous; give more digits`);
    return rows[0] ? versionFromRow(rows[0]) : undefined;
  }

  async list(
    filter: { name?: string | undefined; limit?: number | undefined } = {},
  ): Promise<PolicyVersion[]> {
    const { rows } = filter.name
      ? await this.#pool.query('select * from policy_versions where name = $1 order by seq desc limit $2', [
          filter.name,
          filter.limit ?? 100,
        ])
      : await this.#pool.query('select * from policy_versions order by seq desc limit $1', [
          filter.limit ?? 100,
        ]);
    return rows.map(versionFromRow);
  }

  async attachVerdict(
    version: string,
    verdict: GateVerdict,
    context: { actor: string; nowMs: number },
  ): Promise<'attached' | 'already' | 'not_found'> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query(
        'select verdict from policy_versions where version = $1 for update',
        [version],
      );
      if (!rows[0]) return 'not_found';
      if (rows[0].verdict !== null) return 'already';
      await client.query('update policy_versions set verdict = $1 where version = $2', [
        JSON.stringify(verdict),
        version,
      ]);
      await this.#appendAudit(client, {
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
    const { rows } = await this.#pool.query('select version from policy_stable where name = $1', [name]);
    return optionalString(rows[0]?.version);
  }

  async commitRollout(commit: RolloutCommit): Promise<boolean> {
    const { state } = commit;
    return this.#transaction(async (client) => {
      await this.#lockName(client, state.policyName);
      if (commit.expectedRevision === undefined) {
        const active = await client.query(
          "select 1 from policy_rollouts where (name = $1 and status in ('running', 'paused')) or id = $2 limit 1",
          [state.policyName, state.id],
        );
        if (active.rowCount) return false;
        await client.query(
          'insert into policy_rollouts (id, name, status, state, revision, updated_at) values ($1, $2, $3, $4, 1, $5)',
          [state.id, state.policyName, state.status, JSON.stringify(state), state.updatedAtMs],
        );
      } else {
        const changed = await client.query(
          `update policy_rollouts set status = $1, state = $2, revision = revision + 1, updated_at = $3
           where id = $4 and revision = $5`,
          [state.status, JSON.stringify(state), state.updatedAtMs, state.id, commit.expectedRevision],
        );
        if (!changed.rowCount) return false;
      }
      if (commit.stableVersion !== undefined)
        await client.query(
          `insert into policy_stable (name, version, updated_at) values ($1, $2, $3)
           on conflict (name) do update set version = excluded.version, updated_at = excluded.updated_at`,
          [state.policyName, commit.stableVersion, state.updatedAtMs],
        );
      for (const entry of commit.audit) await this.#appendAudit(client, entry);
      return true;
    });
  }

  async getRollout(id: string): Promise<StoredRollout | undefined> {
    const { rows } = await this.#pool.query('select * from policy_rollouts where id = $1', [id]);
    return rows[0] ? rolloutFromRow(rows[0]) : undefined;
  }

  async activeRollout(name: string): Promise<StoredRollout | undefined> {
    const { rows } = await this.#pool.query(
      "select * from policy_rollouts where name = $1 and status in ('running', 'paused') order by seq desc limit 1",
      [name],
    );
    return rows[0] ? rolloutFromRow(rows[0]) : undefined;
  }

  async listRollouts(
    filter: { name?: string | undefined; limit?: number | undefined } = {},
  ): Promise<StoredRollout[]> {
    const { rows } = filter.name
      ? await this.#pool.query('select * from policy_rollouts where name = $1 order by seq desc limit $2', [
          filter.name,
          filter.limit ?? 100,
        ])
      : await this.#pool.query('select * from policy_rollouts order by seq desc limit $1', [
          filter.limit ?? 100,
        ]);
    return rows.map(rolloutFromRow);
  }

  async addShadowStats(rolloutId: string, stepIndex: number, delta: ShadowStats): Promise<void> {
    await this.#pool.query(
      `insert into policy_rollout_shadow
         (rollout_id, step_index, requests, rerouted, new_denials, stable_cost_usd, predicted_cost_usd)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (rollout_id, step_index) do update set
         requests = policy_rollout_shadow.requests + excluded.requests,
         rerouted = policy_rollout_shadow.rerouted + excluded.rerouted,
         new_denials = policy_rollout_shadow.new_denials + excluded.new_denials,
         stable_cost_usd = policy_rollout_shadow.stable_cost_usd + excluded.stable_cost_usd,
         predicted_cost_usd = policy_rollout_shadow.predicted_cost_usd + excluded.predicted_cost_usd`,
      [
        rolloutId,
        stepIndex,
        delta.requests,
        delta.rerouted,
        delta.newDenials,
        delta.stableCostUsd,
        delta.predictedCostUsd,
      ],
    );
  }

  async shadowStats(rolloutId: string, stepIndex: number): Promise<ShadowStats> {
    const { rows } = await this.#pool.query(
      'select * from policy_rollout_shadow where rollout_id = $1 and step_index = $2',
      [rolloutId, stepIndex],
    );
    const r = rows[0];
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
    return this.#appendAudit(this.#pool, entry);
  }

  async audit(
    filter: {
      subjects?: readonly string[] | undefined;
      afterSeq?: number | undefined;
      limit?: number | undefined;
    } = {},
  ): Promise<AuditEntry[]> {
    if (filter.subjects && filter.subjects.length === 0) return [];
    const params: unknown[] = [filter.afterSeq ?? 0, filter.limit ?? 1000];
    let subjects = '';
    if (filter.subjects) {
      params.push([...filter.subjects]);
      subjects = 'and subject = any($3)';
    }
    const { rows } = await this.#pool.query(
      `select * from policy_audit where seq > $1 ${subjects} order by seq limit $2`,
      params,
    );
    return rows.map(auditFromRow);
  }

  /** The pool belongs to whoever created it; nothing to release here. */
  async close(): Promise<void> {}
}
