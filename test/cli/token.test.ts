/**
 * `spotauth token` as real processes against the emulator: a refresh after expiry happens exactly once
 * across 10 concurrent processes (rotating refresh tokens, file-store lock); a revoked grant exits 3 with a
 * re-login message; Spotify unreachable exits 4; a damaged credentials file or key is reported, never crashed on.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  CANARY,
  type CliResult,
  cliEnv,
  control,
  emulatorEnv,
  leakedOutputs,
  loginWithAutoApprove,
  runCli,
  startCanaryEmulator,
  tempHome,
} from './helpers.js';

let emulator: RunningEmulator;
let homes: Array<ReturnType<typeof tempHome>> = [];

/** A fresh config dir with a login whose access token has expired (so it cannot be served through failures). */
async function loggedInWithExpiringToken() {
  const home = tempHome();
  homes.push(home);
  const env = cliEnv(home.home, emulatorEnv(emulator));
  await control(emulator, 'config', { access_token_ttl: 1, refresh_mode: 'rotate' });
  const login = await loginWithAutoApprove(env);
  expect(login.code, login.stderr).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await control(emulator, 'config', { access_token_ttl: 3600 });
  await control(emulator, 'stats/reset', {});
  return { home, env };
}

const noStack = (result: CliResult) => expect(result.stderr).not.toMatch(/\n\s+at /);

beforeAll(async () => {
  emulator = await startCanaryEmulator({ autoApprove: 'alice' });
});
afterAll(async () => {
  await emulator.stop();
});
afterEach(() => {
  for (const home of homes) home.cleanup();
  homes = [];
  expect(leakedOutputs()).toEqual([]);
});

describe('spotauth token', () => {
  it('10 concurrent processes after expiry refresh exactly once and all print the same new token', async () => {
    const { env } = await loggedInWithExpiringToken();
    const results = await Promise.all(Array.from({ length: 10 }, () => runCli(['token'], env)));
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
    }
    const tokens = new Set(results.map((result) => result.stdout));
    expect(tokens.size).toBe(1);
    const [token] = tokens;
    expect(token).toMatch(new RegExp(`^${CANARY}\\S+\\n$`));
    const stats = await control(emulator, 'stats');
    expect(stats.token_requests.refresh_token).toBe(1);
    expect(stats.token_successes).toBe(1);

    // Now cached: no further token request.
    expect((await runCli(['token'], env)).stdout).toBe(token);
    expect((await control(emulator, 'stats')).token_requests_total).toBe(1);
  });

  it('after revocation exits 3 with a re-login message, and status shows it', async () => {
    const { env } = await loggedInWithExpiringToken();
    await control(emulator, 'revoke', { user_id: 'alice' });
    const result = await runCli(['token'], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^spotauth: .*no longer valid.*log in again\..*spotauth login/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    noStack(result);
    const status = await runCli(['status'], env);
    expect(status.stdout).toMatch(/re-login needed/);
    // And it stays that way without asking Spotify again.
    await control(emulator, 'stats/reset', {});
    expect((await runCli(['token'], env)).code).toBe(3);
    expect((await control(emulator, 'stats')).token_requests_total).toBe(0);
  });

  it('exits 4 when Spotify is unreachable and the token needs a refresh', async () => {
    const { env } = await loggedInWithExpiringToken();
    const result = await runCli(['token'], { ...env, SPOTAUTH_ACCOUNTS_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    noStack(result);
  });

  it.each([
    ['not JSON', '{"format": "spotauth-file-store", "records": {'],
    ['empty', ''],
    ['another format', '{"hello": "world"}'],
  ])('a corrupt credentials file (%s) is reported clearly, not crashed on', async (_name, content) => {
    const { home, env } = await loggedInWithExpiringToken();
    writeFileSync(join(home.configDir, 'credentials.json'), content);
    for (const command of [['token'], ['status'], ['whoami'], ['logout']]) {
      const result = await runCli(command, env);
      expect(result.code, command.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^spotauth: The token file .*credentials\.json is corrupt/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      noStack(result);
    }
  });

  it('a replaced key file is reported clearly (the logins cannot be decrypted)', async () => {
    const { home, env } = await loggedInWithExpiringToken();
    writeFileSync(join(home.configDir, 'key'), `${Buffer.alloc(32, 7).toString('base64')}\n`);
    const result = await runCli(['token'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /Could not decrypt .* move the credentials file away and run `spotauth login`\.$/m,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    noStack(result);
    writeFileSync(join(home.configDir, 'key'), 'not a key\n');
    const damaged = await runCli(['status'], env);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/key file .* is damaged/);
  });
});
