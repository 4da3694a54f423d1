import { runKeyStoreContract } from '../key-store.contract.ts';
import { MemoryKeyStore } from './memory-key-store.ts';

runKeyStoreContract('memory', () => new MemoryKeyStore());
