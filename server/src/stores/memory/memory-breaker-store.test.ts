import { runBreakerStoreContract } from '../breaker-store.contract.ts';
import { MemoryBreakerStore } from './memory-breaker-store.ts';

runBreakerStoreContract('memory', () => new MemoryBreakerStore());
