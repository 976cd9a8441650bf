/**
 * `spotauth login --no-browser` as a real process against the emulator over HTTP: the full PKCE flow via
 * the loopback listener, denied consent, a forged state, the Host check, other paths and methods, the
 * timeout, and that the port is closed afterwards. Then what the login leaves on disk.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  approveInBrowser,
  CANARY,
  cliEnv,
  connectResult,
  control,
  emulatorEnv,
  leakedOutputs,
  loginWithAutoApprove,
  rawRequest,
  runCli,
  startCanaryEmulator,
  startLogin,
  submitConsent,
  tempHome,
} from './helpers.js';

let emulator: RunningEmulator;
let homes: Array<ReturnType<typeof tempHome>> = [];

function freshEnv(extra: Record<string, string | undefined> = {}) {
  const home = tempHome();
  homes.push(home);
  return { home, env: cliEnv(home.home, { ...emulatorEnv(emulator), ...extra }) };
}

beforeAll(async () => {
  emulator = await startCanaryEmulator({ autoApprove: 'alice' });
});
afterAll(async () => {
  await emulator.stop();
});
afterEach(async () => {
  for (const home of homes) home.cleanup();
  homes = [];
  await control(emulator, 'config', { auto_approve: 'alice' });
  expect(leakedOutputs()).toEqual([]);
});

describe('spotauth login --no-browser', () => {
  it('completes the PKCE flow through the loopback listener and stores the login', async () => {
    const { home, env } = freshEnv();
    const login = await startLogin(env);
    // The URL is on a line of its own; the redirect is the loopback IP literal on an OS-assigned port.
    expect(login.redirectUri.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(login.redirectUri.port)).toBeGreaterThan(0);
    expect(login.redirectUri.pathname).toBe('/callback');
    expect(login.authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.authUrl.searchParams.has('client_secret')).toBe(false);
    await login.waitFor(/Waiting for the login/);

    const page = await approveInBrowser(login.authUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Logged in/);
    const result = await login.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Logged in as Alice \S.* \(\S+\)\.$/m);
    expect(result.stdout).toMatch(/^Scopes: user-read-private user-read-email$/m);
    // The port is closed after the first valid callback.
    expect(await connectResult(Number(login.redirectUri.port))).toBe('ECONNREFUSED');

    // On disk: a 0700 directory, 0600 files, and no token in clear.
    expect(statSync(home.configDir).mode & 0o777).toBe(0o700);
    for (const file of ['credentials.json', 'key']) {
      expect(statSync(join(home.configDir, file)).mode & 0o777).toBe(0o600);
    }
    const credentials = readFileSync(join(home.configDir, 'credentials.json'), 'utf8');
    expect(credentials).not.toContain(CANARY);
    expect(credentials).not.toMatch(/"(access|refresh)_?[tT]oken"\s*:\s*"[^"]/);

    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`encryption key: key-file, ${join(home.configDir, 'key')}`);
    expect(status.stdout).toMatch(/default: Alice .*\(\S*alice\S*\) — active/);
    expect(status.stdout).toMatch(/refresh token valid until: \d{4}-/);

    const token = await runCli(['token'], env);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(new RegExp(`^${CANARY}\\S+\\n$`));
    expect(token.stderr).toBe('');
    const json = JSON.parse((await runCli(['token', '--json'], env)).stdout);
    expect(json).toMatchObject({
      access_token: token.stdout.trim(),
      token_type: 'Bearer',
      scope: 'user-read-private user-read-email',
      profile: 'default',
      account: expect.stringMatching(/alice/),
    });
    expect(json.expires_in).toBeGreaterThan(3000);

    const whoami = await runCli(['whoami'], env);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/user id: +alice/);

    const logout = await runCli(['logout'], env);
    expect(logout.code).toBe(0);
    expect((await runCli(['token'], env)).code).toBe(3);
  });

  it('keeps profiles apart, even for the same Spotify account; --profile beats SPOTAUTH_PROFILE', async () => {
    const { env } = freshEnv();
    expect((await loginWithAutoApprove(env)).code).toBe(0);
    expect((await loginWithAutoApprove(env, ['--profile', 'work'])).code).toBe(0);
    const status = await runCli(['status', '--json'], env);
    const profiles = JSON.parse(status.stdout).profiles.map((p: { profile: string }) => p.profile);
    expect(profiles).toEqual(['default', 'work']);

    const byFlag = (await runCli(['token', '--profile', 'work'], env)).stdout;
    const byEnv = (await runCli(['token'], { ...env, SPOTAUTH_PROFILE: 'work' })).stdout;
    const flagWins = (await runCli(['token', '--profile', 'default'], { ...env, SPOTAUTH_PROFILE: 'work' }))
      .stdout;
    const plain = (await runCli(['token'], env)).stdout;
    expect(byEnv).toBe(byFlag);
    expect(flagWins).toBe(plain);
    expect(plain).not.toBe(byFlag);
    // The same through commander's path (a flag the fast path leaves to it).
    const viaCommander = JSON.parse((await runCli(['token', '--json', '--profile=work'], env)).stdout);
    expect(`${viaCommander.access_token}\n`).toBe(byFlag);

    expect((await runCli(['logout', '--profile', 'work'], env)).code).toBe(0);
    expect((await runCli(['token', '--profile', 'work'], env)).code).toBe(3);
    expect((await runCli(['token'], env)).stdout).toBe(plain);
  });

  it('denied consent: the Cancel button ends the login, exit 1, nothing stored', async () => {
    await control(emulator, 'config', { auto_approve: null });
    const { home, env } = freshEnv();
    const login = await startLogin(env);
    const back = await submitConsent(login.authUrl, 'cancel');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.origin).toBe(login.redirectUri.origin);
    const page = await fetch(back);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Access not granted/);
    const result = await login.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^spotauth: Access was not granted on Spotify; nothing was stored\.$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await connectResult(Number(login.redirectUri.port))).toBe('ECONNREFUSED');
    expect(() => statSync(join(home.configDir, 'credentials.json'))).toThrow();
  });

  it('a forged state gets 400 and aborts the login without a token request; nothing stored', async () => {
    const { home, env } = freshEnv();
    const before = (await control(emulator, 'stats')).token_requests.authorization_code;
    const login = await startLogin(env);
    const port = Number(login.redirectUri.port);
    const forged = await rawRequest(port, { path: '/callback?code=AQforged&state=forged' });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatch(/Login rejected/);
    const result = await login.done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/state mismatch/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await control(emulator, 'stats')).token_requests.authorization_code).toBe(before);
    expect(await connectResult(port)).toBe('ECONNREFUSED');
    expect(() => statSync(join(home.configDir, 'credentials.json'))).toThrow();
  });

  it('refuses a wrong Host, other paths and other methods, and keeps waiting for the real callback', async () => {
    const { env } = freshEnv();
    const before = (await control(emulator, 'stats')).token_requests_total;
    const login = await startLogin(env);
    const port = Number(login.redirectUri.port);
    const state = must(login.authUrl.searchParams.get('state'), 'a state parameter');
    // DNS rebinding: right path and state, wrong Host.
    const rebound = await rawRequest(port, {
      path: `/callback?code=AQx&state=${state}`,
      host: 'evil.test',
    });
    expect(rebound.status).toBe(400);
    expect((await rawRequest(port, { path: '/other' })).status).toBe(404);
    expect((await rawRequest(port, { path: '/' })).status).toBe(404);
    expect((await rawRequest(port, { method: 'POST', path: `/callback?state=${state}` })).status).toBe(405);
    expect((await rawRequest(port, { method: 'PUT', path: '/callback' })).status).toBe(405);
    expect((await control(emulator, 'stats')).token_requests_total).toBe(before);
    // Still waiting: the login was not disturbed.
    expect(login.child.exitCode).toBeNull();
    const page = await approveInBrowser(login.authUrl);
    expect(page.status).toBe(200);
    expect((await login.done).code).toBe(0);
    expect(await connectResult(port)).toBe('ECONNREFUSED');
  });

  it('times out cleanly (--timeout 1): exit 1, one sentence, port closed, nothing stored', async () => {
    const { home, env } = freshEnv();
    const login = await startLogin(env, ['--timeout', '1']);
    const started = Date.now();
    const result = await login.done;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^spotauth: No answer from the browser within 1 s.*\n$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await connectResult(Number(login.redirectUri.port))).toBe('ECONNREFUSED');
    expect(() => statSync(join(home.configDir, 'credentials.json'))).toThrow();
  });

  it('--port picks the loopback port; a port in use is a clear error', async () => {
    const { env } = freshEnv();
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['login', '--no-browser', '--port', String(busy)], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^spotauth: Port ${busy} on 127\\.0\\.0\\.1 is already in use`),
      );
    } finally {
      blocker.close();
    }
  });
});
