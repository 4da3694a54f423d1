import { afterAll } from 'vitest';
import { runPolicyVersionStoreContract } from '../policy-version-store.contract.ts';
import { PostgresPolicyVersionStore } from './postgres-policy-version-store.ts';
import { dropPostgresTestSchema, postgresTestSchema } from './postgres-test-schema.ts';

afterAll(dropPostgresTestSchema);

runPolicyVersionStoreContract('postgres', async () => {
  const db = await postgresTestSchema();
  await db.pool.query(
    'truncate policy_stable, policy_versions, policy_rollouts, policy_rollout_shadow, policy_audit',
  );
  return new PostgresPolicyVersionStore(db.pool);
});
