import { MemoryStore } from '../../src/stores/memory.js';
import { storeContract } from './contract.js';

// Plaintext by design: no readRaw, so the encryption cases are skipped; instances share nothing.
storeContract('memory', async () => {
  const store = new MemoryStore();
  return { shared: false, makeStore: async () => store, cleanup: async () => {} };
});
