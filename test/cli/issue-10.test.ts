/**
 * Issue 10, the CLI's findings: terminal escapes from a remote party (item 6) and a config folder other
 * users can write to (item 12). Each case failed before its fix.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  cliEnv,
  emulatorEnv,
  loginWithAutoApprove,
  rawRequest,
  runCli,
  startCanaryEmulator,
  startLogin,
  tempHome,
} from './helpers.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let emulator: RunningEmulator;
let homes: Array<ReturnType<typeof tempHome>> = [];

function freshEnv() {
  const home = tempHome();
  homes.push(home);
  return { home, env: cliEnv(home.home, emulatorEnv(emulator)) };
}

beforeAll(async () => {
  emulator = await startCanaryEmulator({ autoApprove: 'alice' });
});
afterAll(() => emulator.stop());
afterEach(() => {
  for (const home of homes) home.cleanup();
  homes = [];
});

describe('item 6: what a remote party controls is printed without control characters', () => {
  it("strips escapes from the callback's error value (clipboard write, clear screen, fake lines)", async () => {
    const { env } = freshEnv();
    const login = await startLogin(env);
    const state = must(login.authUrl.searchParams.get('state'), 'a state parameter');
    const hostile = '\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u009b31m\r\nspotauth: Logged in as admin';
    const path = `/callback?error=${encodeURIComponent(hostile)}&state=${encodeURIComponent(state)}`;
    const answer = await rawRequest(Number(login.redirectUri.port), { path });
    expect(answer.status).toBe(400);
    const result = await login.done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Spotify returned an error');
    expect(result.stderr).not.toMatch(CONTROL);
    // The hostile text cannot start a line of its own.
    expect(result.stderr).not.toMatch(/^spotauth: Logged in as admin/m);
  });
});

describe('item 12: the config folder', () => {
  it('tightens a pre-existing world-writable folder of ours to 0700, with a note', async () => {
    const { home, env } = freshEnv();
    mkdirSync(home.configDir, { recursive: true });
    chmodSync(home.configDir, 0o777);
    const result = await runCli(['status'], env);
    expect(result.code).toBe(0);
    expect(statSync(home.configDir).mode & 0o777).toBe(0o700);
    expect(result.stderr).toMatch(/open to other users \(mode 777\); it is now 0700/);
  });

  it('tightens loose key and credential files to 0600 and keeps working', async () => {
    const { home, env } = freshEnv();
    expect((await loginWithAutoApprove(env)).code).toBe(0);
    chmodSync(home.configDir, 0o755);
    chmodSync(join(home.configDir, 'key'), 0o644);
    const token = await runCli(['token'], env);
    expect(token.code).toBe(0);
    expect(statSync(home.configDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(home.configDir, 'key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a planted link in place of the key file', async () => {
    const { home, env } = freshEnv();
    mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(home.home, 'planted'), `${Buffer.alloc(32, 1).toString('base64')}\n`);
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(home.home, 'planted'), join(home.configDir, 'key'));
    const result = await runCli(['status'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not a plain file of yours/);
  });
});
