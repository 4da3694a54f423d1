import { runLimitStoreContract } from '../limit-store.contract.ts';
import { MemoryLimitStore } from './memory-limit-store.ts';

runLimitStoreContract('memory', () => new MemoryLimitStore());
