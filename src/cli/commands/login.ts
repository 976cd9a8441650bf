import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { beginLogin, checkCallback, finishLogin } from '../../auth/login-flow.js';
import type { LoginTransaction } from '../../auth/sessions.js';
import { authConfigFromEnv } from '../../core/env.js';
import { isSpotauthError, SpotauthError } from '../../core/errors.js';
import { describeScope, parseScopes } from '../../core/scopes.js';
import { SpotifyAuth, type ValidatedCallback } from '../../core/spotify-auth.js';
import { TokenManager } from '../../tokens/token-manager.js';
import { accountOf, checkProfile, openCliStore, profileScoped } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type LoopbackListener, startLoopback } from '../loopback.js';
import { bold, printable } from '../output.js';

export interface LoginOptions {
  scope?: string;
  clientId?: string;
  port?: string;
  browser?: boolean;
  profile?: string;
  timeout?: string;
  showDialog?: boolean;
}

const DEFAULT_SCOPE = 'user-read-private user-read-email';
// Spotify allows any port for a loopback URI registered without one (FACTS §4); register exactly this.
const DEFAULT_REDIRECT = 'http://127.0.0.1/callback';

export async function runLogin(options: LoginOptions): Promise<void> {
  const profile = checkProfile(options.profile);
  const port = parsePort(options.port);
  const timeoutMs = parseTimeout(options.timeout ?? process.env['SPOTAUTH_LOGIN_TIMEOUT'] ?? '300');
  const scope = parseScopes(options.scope ?? process.env['SPOTAUTH_SCOPE'] ?? DEFAULT_SCOPE);
  // The CLI is a public client: PKCE, never a secret (RFC 8252 §8.5), even if one is in the environment.
  const redirectUri = process.env['SPOTIFY_REDIRECT_URI'] || DEFAULT_REDIRECT;
  const config = authConfigFromEnv(process.env, {
    ...(options.clientId ? { clientId: options.clientId } : {}),
    clientSecret: undefined,
    redirectUri,
  });
  if (!config.clientId) {
    throw new CliError(
      'A Spotify client id is needed: pass --client-id or set SPOTIFY_CLIENT_ID.',
      EXIT.USAGE,
    );
  }
  const auth = new SpotifyAuth(config);
  const registered = new URL(redirectUri);
  if (registered.protocol !== 'http:' || registered.hostname !== '127.0.0.1') {
    throw new CliError(
      `The CLI receives the login on http://127.0.0.1; SPOTIFY_REDIRECT_URI is ${registered.href}. Register http://127.0.0.1/callback in your Spotify app and use that.`,
      EXIT.USAGE,
    );
  }
  const listenPort = port ?? (registered.port ? Number(registered.port) : 0);

  let transaction: LoginTransaction | undefined;
  let validated: ValidatedCallback | undefined;
  let failure: Error | undefined;
  const check = (url: URL) => {
    try {
      // The listener is up before the login starts: an answer that early cannot be this login's.
      if (transaction === undefined) throw new SpotauthError('STATE_MISMATCH', 'No login was started yet.');
      validated = checkCallback(auth, transaction, url);
      return {
        final: true,
        status: 200,
        title: 'Logged in',
        message: 'spotauth received your login. You can close this tab and return to the terminal.',
      };
    } catch (error) {
      failure = error as Error;
      if (isSpotauthError(error, 'ACCESS_DENIED')) {
        return {
          final: true,
          status: 200,
          title: 'Access not granted',
          message: 'You did not allow access, so nothing was stored. You can close this tab.',
        };
      }
      // Wrong or missing state is not our login's callback; any other error ends it too. Abort, never guess.
      return {
        final: true,
        status: 400,
        title: 'Login rejected',
        message: isSpotauthError(error, 'AUTHORIZATION_ERROR')
          ? `Spotify returned an error: ${failure.message} Nothing was stored.`
          : 'This answer does not belong to the login that was started; nothing was stored.',
      };
    }
  };

  const listener = await startLoopback({
    port: listenPort,
    path: registered.pathname,
    timeoutMs,
    accept: check,
  });
  const stopPaste = listenForPaste(listener, registered.pathname);
  try {
    const loopbackUri = `http://127.0.0.1:${listener.port}${registered.pathname}${registered.search}`;
    const started = await beginLogin(auth, {
      scope,
      redirectUri: loopbackUri,
      ...(options.showDialog ? { showDialog: true } : {}),
    });
    transaction = started.transaction;
    const url = started.url.href;
    process.stderr.write(
      `Log in to Spotify${profile === 'default' ? '' : ` for profile "${profile}"`} by opening this URL:\n`,
    );
    process.stderr.write(`${url}\n`);
    if (options.browser !== false && !openBrowser(url)) {
      process.stderr.write('(Could not open a browser: open the URL above yourself.)\n');
    }
    process.stderr.write(`Waiting for the login (up to ${timeoutMs / 1000} s; Ctrl+C to cancel)…\n`);
    if (process.stdin.isTTY) {
      process.stderr.write(
        'If the browser is on another machine, paste here the address it ends on (http://127.0.0.1:…/callback?…).\n',
      );
    }
    await listener.callback;
  } finally {
    stopPaste();
    await listener.close();
  }
  if (failure) {
    if (isSpotauthError(failure, 'ACCESS_DENIED'))
      throw new CliError('Access was not granted on Spotify; nothing was stored.');
    throw failure;
  }
  // The loopback ends only after a check that either failed (above) or validated this login's callback.
  if (transaction === undefined || validated === undefined)
    throw new Error('the login ended without its callback');

  const { store } = await openCliStore(true);
  try {
    const manager = new TokenManager({ auth, store: profileScoped(store, profile) });
    const meta = {
      profile,
      clientId: auth.config.clientId,
      accountsUrl: auth.config.accountsUrl.href,
      apiUrl: auth.config.apiUrl.href,
    };
    // The profile's previous login goes only once the new one is in hand (a failed exchange keeps it).
    const previous = (await store.list('user:')).filter((record) => record.meta?.['profile'] === profile);
    const { grant, profile: me } = await finishLogin({ auth, tokens: manager, meta }, transaction, validated);
    for (const record of previous) if (record.key !== grant.key) await store.delete(record.key);
    const account = accountOf(grant);
    const who = me.display_name ? `${me.display_name} (${account})` : account;
    process.stdout.write(`Logged in as ${bold(printable(who))}.\n`);
    process.stdout.write(`Scopes: ${grant.scope.length ? grant.scope.join(' ') : '(none)'}\n`);
    for (const granted of grant.scope) process.stderr.write(`  • ${describeScope(granted)}\n`);
  } finally {
    await store.close();
  }
}

function parsePort(value: string | undefined): number | undefined {
  const raw = value ?? process.env['SPOTAUTH_LOGIN_PORT'];
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(
      `--port must be a port number between 0 and 65535 (got ${JSON.stringify(raw.slice(0, 20))}).`,
      EXIT.USAGE,
    );
  }
  return port;
}

function parseTimeout(raw: string): number {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new CliError('--timeout must be a number of seconds between 1 and 3600.', EXIT.USAGE);
  }
  return seconds * 1000;
}

function openBrowser(url: string): boolean {
  const command =
    process.env['BROWSER'] ||
    (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** Headless fallback: the user pastes the address the browser ended on; it is checked like a real callback. */
function listenForPaste(listener: LoopbackListener, callbackPath: string): () => void {
  if (!process.stdin.isTTY) return () => {};
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let url: URL | undefined;
    try {
      url = new URL(line.trim());
    } catch {}
    if (url?.pathname !== callbackPath) {
      process.stderr.write(
        `That is not the address the login ends on; paste the whole address containing ${callbackPath}?….\n`,
      );
      return;
    }
    const outcome = listener.deliver(url);
    if (!outcome.final) process.stderr.write(`${outcome.message}\n`);
  });
  return () => lines.close();
}
