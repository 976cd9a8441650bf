import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runKeysGenerate, runKeysReencrypt } from '../../src/cli/commands/keys.js';
import { Keyring } from '../../src/stores/encryption.js';
import { FileStore } from '../../src/stores/file.js';
import { must } from '../support/must.js';
import { keyFor, sampleRecord } from './helpers.js';

function capture() {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return out;
}

describe('spotauth keys', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('generate prints one kid:base64 entry', async () => {
    const out = capture();
    await runKeysGenerate();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/]{43}=\n$/);
    expect(Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: must(out[0], 'out[0]').trim() })).not.toBeNull();
  });

  it('reencrypt rewrites a store under the active key from the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spotauth-keys-'));
    try {
      const path = join(dir, 'tokens.json');
      const k1 = `k1:${keyFor('k1').toString('base64')}`;
      const k2 = `k2:${keyFor('k2').toString('base64')}`;
      const old = new FileStore(path, {
        keyring: must(
          Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: k1 }),
          'Keyring.fromEnv({ SPOTAUTH_ENCRYPTION_KEYS: k1 })',
        ),
      });
      await old.put(sampleRecord('user:ada'), null);
      vi.stubEnv('SPOTAUTH_ENCRYPTION_KEYS', `${k1},${k2}`);
      const out = capture();
      await runKeysReencrypt({ store: `file:${path}` });
      expect(out.join('')).toContain("1 records, 1 re-encrypted under key 'k2'");
      expect(await old.encryption.keyIdsInUse()).toEqual([{ key: 'user:ada', kids: ['k2'] }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
