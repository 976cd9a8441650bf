/**
 * What a person sees: `spotauth login` driven in a real terminal (tmux), against an emulator that shows its
 * consent page. The pane must show the URL and the "Waiting…" lines; pasting junk or a forged callback is
 * rejected; pasting the address the browser ended on (the headless fallback) completes the login. Then
 * colours: bold in a terminal, none with NO_COLOR.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  ANSI,
  CANARY,
  CLI,
  cliEnv,
  emulatorEnv,
  startCanaryEmulator,
  submitConsent,
  tempHome,
} from './helpers.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) {
  if (process.env['CI']) throw new Error('tmux is required in CI for the interactive CLI test.');
  console.warn('\n*** SKIPPING the interactive CLI test: tmux is not installed. ***\n');
}

const SOCKET = `spotauth-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Runs `command` in a new 120×30 pane; the pane stays after it exits and shows its exit status. */
function openPane(name: string, env: NodeJS.ProcessEnv, args: string[]): void {
  const assignments = Object.entries(env)
    .filter(([key]) => /^(SPOTIFY_|SPOTAUTH_|NO_COLOR$|HOME$|XDG_CONFIG_HOME$|PATH$|BROWSER$)/.test(key))
    .map(([key, value]) => `${key}=${shellQuote(value ?? '')}`);
  const command = `env -i TERM=xterm-256color ${assignments.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(CLI)} ${args.map(shellQuote).join(' ')}; echo "[exit $?]"; sleep 600`;
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', command);
}

const screen = (name: string, escapes = false) =>
  tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', name);

async function waitForScreen(name: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(name);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`Pane never showed ${pattern}. It shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function paste(name: string, text: string): void {
  tmux('send-keys', '-t', name, '-l', text);
  tmux('send-keys', '-t', name, 'Enter');
}

describe.skipIf(!hasTmux)('spotauth login in a terminal (tmux)', () => {
  let emulator: RunningEmulator;
  const home = tempHome();
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    emulator = await startCanaryEmulator(); // no auto-approve: the consent page is shown
    // BROWSER=true: "opening the browser" succeeds and does nothing, as on a machine whose browser is elsewhere.
    env = cliEnv(home.home, { ...emulatorEnv(emulator), BROWSER: 'true' });
  });
  afterAll(async () => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    await emulator?.stop();
    home.cleanup();
  });

  it('shows the URL and waits; junk and a forged callback pasted in are rejected', async () => {
    openPane('forged', env, ['login']);
    const shown = await waitForScreen('forged', /Waiting for the login/);
    expect(shown).toMatch(/^Log in to Spotify by opening this URL:$/m);
    const url = shown.match(/^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m)?.[1];
    expect(url).toBeDefined();
    expect(shown).toMatch(/paste here the address it ends on/);
    const redirect = new URL(
      must(new URL(must(url, 'url')).searchParams.get('redirect_uri'), 'a redirect_uri parameter'),
    );

    paste('forged', 'hello there');
    await waitForScreen('forged', /That is not the address the login ends on/);
    paste('forged', `${redirect.href}?code=AQforged&state=forged`);
    const after = await waitForScreen('forged', /\[exit \d+\]/);
    expect(after).toMatch(/^spotauth: The callback does not belong to this login \(state mismatch\)/m);
    expect(after).toMatch(/\[exit 1\]/);
    expect(after).not.toMatch(/\n\s+at /);
  });

  it('completes the login when the final address from the consent page is pasted in', async () => {
    openPane('paste', env, ['login', '--scope', 'user-read-private']);
    const shown = await waitForScreen('paste', /Waiting for the login/);
    const url = new URL(
      must(
        shown.match(/^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m)?.[1],
        '/^(http:\\/\\/127\\.0\\.0\\.1:\\d+\\/authorize\\?\\S+)$/m in shown',
      ),
    );
    // The person approves in a browser elsewhere; it ends on the loopback address, which they copy.
    const final = await submitConsent(url, 'agree', 'alice');
    expect(final.searchParams.has('code')).toBe(true);
    paste('paste', final.href);
    const after = await waitForScreen('paste', /\[exit \d+\]/);
    expect(after).toMatch(/^Logged in as Alice .*\.$/m);
    expect(after).toMatch(/^Scopes: user-read-private$/m);
    expect(after).toMatch(/\[exit 0\]/);
    // The code is on screen only where the terminal echoed the paste; the CLI itself prints no code or token.
    const printed = after.split('\n').filter((line) => line.trim() !== final.href);
    expect(printed.join('\n')).not.toContain(CANARY);
  });

  it('uses bold in a terminal, and no escapes at all with NO_COLOR', async () => {
    openPane('color', env, ['status']);
    await waitForScreen('color', /\[exit 0\]/);
    expect(screen('color', true)).toMatch(ANSI);
    openPane('nocolor', { ...env, NO_COLOR: '1' }, ['status']);
    const plain = await waitForScreen('nocolor', /\[exit 0\]/);
    expect(plain).toMatch(/default: Alice/);
    expect(screen('nocolor', true)).not.toMatch(ANSI);
  });
});
