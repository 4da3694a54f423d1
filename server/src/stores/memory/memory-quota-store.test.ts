import { runQuotaStoreContract } from '../quota-store.contract.ts';
import { MemoryQuotaStore } from './memory-quota-store.ts';

runQuotaStoreContract('memory', () => new MemoryQuotaStore());
