import { Keyring } from '../../stores/encryption.js';
import { CliError, EXIT } from '../exit-codes.js';

/** `spotauth keys generate`: the entry goes to stdout (pipe-friendly), the advice to stderr. */
export async function runKeysGenerate(_options: Record<string, unknown> = {}): Promise<void> {
  const { generateKey, KEYS_ENV } = await import('../../stores/encryption.js');
  const { entry } = generateKey();
  process.stdout.write(`${entry}\n`);
  process.stderr.write(
    `Append this entry to ${KEYS_ENV} (comma-separated). The last key listed becomes the active one;\n` +
      'keep the old keys listed until `spotauth keys reencrypt --store <url>` has rewritten every record.\n',
  );
}

/** `spotauth keys reencrypt --store <url>`: rewrites every record under the active key from the environment. */
export async function runKeysReencrypt(options: { store: string }): Promise<void> {
  const keyring = Keyring.fromEnv(process.env);
  if (!keyring) {
    throw new CliError(
      'Set SPOTAUTH_ENCRYPTION_KEYS (old and new keys; the last one, or SPOTAUTH_ENCRYPTION_ACTIVE_KEY, is active) before re-encrypting.',
      EXIT.USAGE,
    );
  }
  const { createStore, reencryptAll } = await import('../../stores/index.js');
  const store = await createStore(options.store, { keyring });
  try {
    const result = await reencryptAll(store);
    process.stdout.write(
      `${store.describe()}: ${result.scanned} records, ${result.rewritten} re-encrypted under key '${keyring.activeKid}', ` +
        `${result.current} already current, ${result.skipped} skipped (changed or deleted meanwhile); ` +
        `${result.entriesRewritten} sessions, login transactions and broker keys re-encrypted.\n`,
    );
    if (result.skipped > 0) process.exitCode = EXIT.ERROR;
  } finally {
    await store.close();
  }
}
