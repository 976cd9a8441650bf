/**
 * `spotauth/testing`: what a third-party store backend needs to prove it behaves like the built-in ones.
 * Needs vitest (an optional peer dependency): call `storeContract` from a `*.test.ts` file.
 *
 * @example
 * ```ts
 * import { storeContract, testKeyring } from 'spotauth/testing';
 * storeContract('my-store', async () => ({
 *   shared: true,
 *   makeStore: (keyring = testKeyring('k1')) => MyStore.open(dir, { keyring }),
 *   cleanup: () => rm(dir, { recursive: true, force: true }),
 * }));
 * ```
 */
export { canary, keyringOf as testKeyring, sampleRecord } from './fixtures.js';
export { type ContractOptions, expectCode, type StoreHarness, storeContract } from './store-contract.js';
