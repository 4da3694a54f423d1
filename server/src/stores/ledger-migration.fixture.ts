import { sampleLedgerRow } from './ledger-store.contract.ts';

/**
 * For the ledger migration tests: a second request that reused the client's id `client-42` after
 * a first one (7 input tokens, $0.50 at time 5) was stored under the old schema, keyed by that id.
 */
export const reusedIdRow = sampleLedgerRow({
  time: 6,
  requestId: 'client-42',
  rowId: 'req_0000000000060123456789ab',
  inputTokens: 3,
  costUsd: 0.25,
});
