import { MemoryStore } from '../../src/stores/memory.js';
import { storeContract } from '../../src/testing/store-contract.js';

// Plaintext by design (nothing is persisted), so the encryption cases do not apply; instances share nothing.
storeContract(
  'memory',
  async () => {
    const store = new MemoryStore();
    return { shared: false, makeStore: async () => store, cleanup: async () => {} };
  },
  { encrypted: false },
);
