import type { GateVerdict } from '@switchyard/engine';
import type { AuditEntry, PolicyVersion, StoredRollout } from './policy-version-store.ts';

/** A database row as the drivers return it. */
export type PolicyVersionRow = Record<string, unknown>;

/** A nullable text column as an optional string. */
export const optionalString = (v: unknown): string | undefined =>
  v === null || v === undefined ? undefined : String(v);

/** A JSON column: SQLite returns text, pg returns jsonb already parsed. */
function json<T>(v: unknown): T | undefined {
  if (v === null || v === undefined) return undefined;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** A stored policy version from its row (SQLite or Postgres). */
export function versionFromRow(r: PolicyVersionRow): PolicyVersion {
  return {
    version: String(r.version),
    hash: String(r.hash),
    name: String(r.name),
    files: json<PolicyVersion['files']>(r.files) ?? [],
    gitCommit: optionalString(r.git_commit),
    author: optionalString(r.author),
    message: optionalString(r.message),
    createdAt: Number(r.created_at),
    verdict: json<GateVerdict>(r.verdict),
  };
}

/** An audit entry from its row (SQLite or Postgres). */
export function auditFromRow(r: PolicyVersionRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    actor: String(r.actor),
    action: String(r.action),
    subject: String(r.subject),
    reason: String(r.reason),
    details: json<Record<string, unknown>>(r.details),
  };
}

/** A stored rollout from its row (SQLite or Postgres). */
export function rolloutFromRow(r: PolicyVersionRow): StoredRollout {
  return { state: json<StoredRollout['state']>(r.state)!, revision: Number(r.revision) };
}
