/**
 * Helpers for the CLI tests: run the built `dist/cli/main.js` as a real process, against an emulator
 * started in this process (so tests can use its control API and give it a canary token prefix).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.js';
import type { EmulatorOptions } from '../../src/emulator/types.js';
import { must } from '../support/must.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI; SPOTAUTH_TEST_CLI points the tests at another build (e.g. a private one while others rebuild dist). */
export const CLI = process.env['SPOTAUTH_TEST_CLI'] ?? join(ROOT, 'dist/cli/main.js');
export const CANARY = 'tok_CANARY_';
export const SANDBOX_CLIENT = 'spotauth-sandbox-client';
/** The authorization URL `login --no-browser` prints on a line of its own. */
export const AUTH_URL_LINE = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes is the point
export const ANSI = /\u001b\[/;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Every output of every CLI process of the current test file, for the "no token leaks" checks. */
export const transcript: Array<{ args: string[]; stdout: string; stderr: string }> = [];

/** The environment of a CLI process: nothing inherited that could change its behaviour, a private config dir. */
export function cliEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(SPOTIFY_|SPOTAUTH_)|^(NO_COLOR|FORCE_COLOR|BROWSER|XDG_CONFIG_HOME|HOME)$/.test(name)) continue;
    env[name] = value;
  }
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), SPOTAUTH_NO_KEYRING: '1' });
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function emulatorEnv(emulator: RunningEmulator): Record<string, string> {
  return {
    SPOTIFY_CLIENT_ID: SANDBOX_CLIENT,
    SPOTAUTH_ACCOUNTS_URL: emulator.url,
    SPOTAUTH_API_URL: `${emulator.url}/v1`,
  };
}

export function tempHome(): { home: string; configDir: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'spotauth-cli-'));
  return {
    home,
    configDir: join(home, 'config', 'spotauth'),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

export function startCanaryEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, tokenPrefix: CANARY, quiet: true, ...options });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stderr (or stdout), rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  must(child.stdout, 'child.stdout')
    .setEncoding('utf8')
    .on('data', (chunk: string) => {
      stdout += chunk;
      notify();
    });
  must(child.stderr, 'child.stderr')
    .setEncoding('utf8')
    .on('data', (chunk: string) => {
      stderr += chunk;
      notify();
    });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      transcript.push({ args, stdout, stderr });
      resolve({ code, signal, stdout, stderr });
      notify();
    });
  });
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  const waitFor = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`Timed out waiting for ${pattern}; stderr so far:\n${stderr}`));
      }, timeoutMs);
      const check = () => {
        const match = stderr.match(pattern) ?? stdout.match(pattern);
        if (match || exited) {
          clearTimeout(timer);
          listeners.delete(check);
          if (match) resolve(match);
          else reject(new Error(`The CLI exited before printing ${pattern}:\n${stderr}`));
        }
      };
      listeners.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, done };
}

/** Runs the CLI to completion (stdin closed at once). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  const cli = startCli(args, env, cwd);
  must(cli.child.stdin, 'cli.child.stdin').end();
  return cli.done;
}

/** Starts `login --no-browser` and returns it with the authorization URL it printed. */
export async function startLogin(
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): Promise<RunningCli & { authUrl: URL; redirectUri: URL }> {
  const cli = startCli(['login', '--no-browser', ...extraArgs], env);
  must(cli.child.stdin, 'cli.child.stdin').end();
  const [, url] = await cli.waitFor(AUTH_URL_LINE);
  const authUrl = new URL(must(url, 'url'));
  return {
    ...cli,
    authUrl,
    redirectUri: new URL(must(authUrl.searchParams.get('redirect_uri'), 'a redirect_uri parameter')),
  };
}

/** What a browser does with an auto-approving emulator: follow the authorize redirect to the loopback. */
export async function approveInBrowser(authUrl: URL): Promise<Response> {
  const authorize = await fetch(authUrl, { redirect: 'manual' });
  const location = authorize.headers.get('location');
  if (authorize.status !== 302 || !location) {
    throw new Error(`Expected a redirect from /authorize, got ${authorize.status}`);
  }
  return fetch(location, { redirect: 'manual' });
}

/** Reads the consent form of the emulator's page: where it posts and its hidden fields. */
export function parseConsentForm(html: string, base: URL): { action: URL; fields: Record<string, string> } {
  const form = html.match(/<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
  if (!form) throw new Error('No form on the consent page');
  const fields: Record<string, string> = {};
  for (const input of must(form[2], 'form[2]').matchAll(/<input\b[^>]*>/gi)) {
    const tag = input[0];
    const type = tag.match(/\btype="([^"]*)"/i)?.[1];
    const name = tag.match(/\bname="([^"]*)"/i)?.[1];
    const value = tag.match(/\bvalue="([^"]*)"/i)?.[1];
    if (type === 'hidden' && name) fields[unescapeHtml(name)] = unescapeHtml(value ?? '');
  }
  return { action: new URL(unescapeHtml(must(form[1], 'form[1]')), base), fields };
}

/** Submits the consent form with one of its buttons ("agree" as `user`, or "cancel"), returning the redirect. */
export async function submitConsent(
  authUrl: URL,
  decision: 'agree' | 'cancel',
  user = 'alice',
): Promise<URL> {
  const page = await fetch(authUrl, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`Expected the consent page, got ${page.status}`);
  const { action, fields } = parseConsentForm(await page.text(), authUrl);
  const body = new URLSearchParams({ ...fields, decision, ...(decision === 'agree' ? { user } : {}) });
  const answer = await fetch(action, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (answer.status !== 303 || !location) throw new Error(`Expected a redirect, got ${answer.status}`);
  return new URL(location);
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// biome-ignore lint/suspicious/noExplicitAny: control-API JSON; the tests check the fields they use
export async function control(emulator: RunningEmulator, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status}`);
  return response.json();
}

/** Asserts nothing any CLI process printed contains a token, except what `token` itself wrote to stdout. */
export function leakedOutputs(): string[] {
  const leaks: string[] = [];
  for (const { args, stdout, stderr } of transcript) {
    const allowedStdout = args[0] === 'token';
    if (stderr.includes(CANARY) || /Bearer |code=/.test(stderr)) leaks.push(`stderr of ${args.join(' ')}`);
    if (!allowedStdout && (stdout.includes(CANARY) || /Bearer |code=/.test(stdout)))
      leaks.push(`stdout of ${args.join(' ')}`);
  }
  return leaks;
}

/** A raw HTTP request with a chosen Host header (fetch does not let you set one). */
export async function rawRequest(
  port: number,
  options: { method?: string; path: string; host?: string },
): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: options.host ?? `127.0.0.1:${port}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the error code of a TCP connection attempt, or 'connected'. */
export async function connectResult(port: number): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/** A complete `login --no-browser` against an auto-approving emulator; resolves with the finished process. */
export async function loginWithAutoApprove(
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): Promise<CliResult> {
  const login = await startLogin(env, extraArgs);
  const page = await approveInBrowser(login.authUrl);
  await page.text();
  return login.done;
}
