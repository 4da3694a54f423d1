import { runLedgerStoreContract } from '../ledger-store.contract.ts';
import { MemoryLedgerStore } from './memory-ledger-store.ts';

runLedgerStoreContract('memory', () => new MemoryLedgerStore());
