import { basename } from 'node:path';
import { compilePolicy, type Diagnostic, formatDiagnostic, type PolicyFile } from '@switchyard/engine';
import type { PolicyVersion, PolicyVersionStore } from '../stores/policy-version-store.ts';

/** Where a version came from, recorded with it. */
export interface VersionProvenance {
  /** Who publishes (audit log). */
  actor: string;
  message?: string | undefined;
  gitCommit?: string | undefined;
  author?: string | undefined;
  nowMs: number;
}

/** A policy that cannot be published, with every error found. */
export class PolicyNotPublishableError extends Error {
  readonly errors: readonly Diagnostic[];
  override name = 'PolicyNotPublishableError';
  constructor(errors: readonly Diagnostic[]) {
    super(`policy does not compile:\n${errors.map(formatDiagnostic).join('\n')}`);
    this.errors = errors;
  }
}

/**
 * Compiles a policy and publishes it as an immutable version keyed by the compiled policy's
 * content hash (the same meaning published twice is one version). Paths are stored relative to the
 * policy folder (file names), so publishing from another directory gives the same record. Throws
 * `PolicyNotPublishableError` for a policy that does not compile: an invalid policy never becomes
 * a version.
 */
export async function publishPolicyVersion(
  store: PolicyVersionStore,
  files: readonly PolicyFile[],
  provenance: VersionProvenance,
): Promise<{ version: PolicyVersion; created: boolean }> {
  const result = compilePolicy(files);
  if (!result.ok) throw new PolicyNotPublishableError(result.errors);
  const { policy } = result;
  return store.publish(
    {
      version: policy.version,
      hash: policy.hash,
      name: policy.name,
      files: files.map((f) => ({ path: basename(f.path), text: f.text })),
      gitCommit: provenance.gitCommit,
      author: provenance.author,
      message: provenance.message,
    },
    { actor: provenance.actor, nowMs: provenance.nowMs },
  );
}
