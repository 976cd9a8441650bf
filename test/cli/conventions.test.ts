/**
 * CLI conventions, as real processes: --help on every command and --version exit 0, usage mistakes exit 2,
 * "not logged in" exits 3 with one sentence and no stack, NO_COLOR / non-TTY output has no ANSI escapes,
 * a `localhost` redirect URI is refused before anything listens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSI, cliEnv, runCli, tempHome } from './helpers.js';

const COMMANDS = [
  [],
  ['login'],
  ['token'],
  ['whoami'],
  ['status'],
  ['logout'],
  ['serve'],
  ['emulator'],
  ['keys'],
  ['keys', 'generate'],
  ['keys', 'reencrypt'],
  ['keys', 'create'],
  ['keys', 'list'],
  ['keys', 'revoke'],
];

describe('spotauth conventions', () => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    home = tempHome();
    env = cliEnv(home.home);
  });
  afterAll(() => home.cleanup());

  it.each(COMMANDS.map((command) => [command.join(' ') || '(top level)', command]))(
    '%s --help exits 0 and prints usage on stdout',
    async (_name, command) => {
      const result = await runCli([...(command as string[]), '--help'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: spotauth/);
      expect(result.stdout).not.toMatch(ANSI);
    },
  );

  it('--version prints the package version and exits 0', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const result = await runCli(['--version'], env);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([
    ['unknown flag', ['token', '--bogus']],
    ['unknown flag on login', ['login', '--frobnicate']],
    ['unknown command', ['frobnicate']],
    ['missing option value', ['login', '--port']],
    ['bad port', ['login', '--port', 'seventy', '--client-id', 'x']],
    ['bad timeout', ['login', '--timeout', '-3', '--client-id', 'x']],
    ['bad serve port', ['serve', '--port', 'eighty']],
    ['bad profile name', ['token', '--profile', '../etc']],
    ['bad emulator option', ['emulator', '--port', '0', '--refresh-mode', 'sometimes']],
    ['keys reencrypt without keys', ['keys', 'reencrypt', '--store', 'file:/nonexistent']],
  ])('%s exits 2 with a short message and no stack', async (_name, args) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('token without a login exits 3 with one sentence on stderr and nothing on stdout', async () => {
    const result = await runCli(['token'], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('spotauth: Not logged in. Run `spotauth login`.\n');
  });

  it('--debug adds the stack trace, and only then', async () => {
    const result = await runCli(['token', '--debug'], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('login without a client id is a usage error', async () => {
    const result = await runCli(['login', '--no-browser'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/client id/);
  });

  it('a localhost redirect URI in the configuration is refused (exit 2), nothing listens', async () => {
    const result = await runCli(
      ['login', '--no-browser'],
      cliEnv(home.home, {
        SPOTIFY_CLIENT_ID: 'spotauth-sandbox-client',
        SPOTIFY_REDIRECT_URI: 'http://localhost/callback',
      }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/127\.0\.0\.1/);
    expect(result.stderr).not.toMatch(/authorize\?/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('NO_COLOR and non-TTY output carry no ANSI escapes', async () => {
    for (const extra of [{}, { NO_COLOR: '1' }]) {
      const result = await runCli(['status'], cliEnv(home.home, extra));
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).not.toMatch(ANSI);
    }
  });

  it('status before any login says so and creates no files', async () => {
    const result = await runCli(['status'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/No logins stored/);
    expect(result.stdout).toMatch(/encryption key: none yet/);
  });
});
