import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import {
  type EmulatorOptions,
  type RunningEmulator,
  SANDBOX_APP,
  startEmulator,
} from '../../src/emulator/index.js';
import { must } from '../support/must.js';

export const CLIENT_ID = SANDBOX_APP.clientId;
export const CLIENT_SECRET = SANDBOX_APP.clientSecret;
export const REDIRECT_URI = 'http://127.0.0.1:8888/callback';

export function start(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, quiet: true, ...options });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(emulator: RunningEmulator, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  const defaults: Record<string, string | undefined> = {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    state: 'st-123',
  };
  for (const [key, value] of Object.entries({ ...defaults, ...params })) {
    if (value !== undefined) query.set(key, value);
  }
  return `${emulator.url}/authorize?${query}`;
}

export async function getAuthorize(
  emulator: RunningEmulator,
  params: Record<string, string | undefined>,
  headers: Record<string, string> = {},
) {
  const response = await fetch(authorizeUrl(emulator, params), { redirect: 'manual', headers });
  return {
    response,
    status: response.status,
    location: response.headers.get('location'),
    text: await response.text(),
  };
}

/** Returns the code from an auto-approved (or session-skipped) /authorize redirect. */
export async function authorizeCode(
  emulator: RunningEmulator,
  params: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
): Promise<string> {
  const { status, location, text } = await getAuthorize(emulator, params, headers);
  if (status !== 302 || !location)
    throw new Error(`expected a redirect, got ${status}: ${text.slice(0, 200)}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

export async function postToken(
  emulator: RunningEmulator,
  fields: Record<string, string | undefined>,
  options: { auth?: string; contentType?: string; body?: string } = {},
) {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.set(key, value);
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
  };
  if (options.auth) headers['authorization'] = options.auth;
  const response = await fetch(`${emulator.url}/api/token`, {
    method: 'POST',
    headers,
    body: options.body ?? form.toString(),
    redirect: 'manual',
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { response, status: response.status, text, json };
}

/** A confidential authorization-code exchange with the sandbox secret (Basic). */
export async function exchange(emulator: RunningEmulator, code: string, extra: Record<string, string> = {}) {
  return postToken(
    emulator,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra },
    { auth: basic(CLIENT_ID, CLIENT_SECRET) },
  );
}

export async function control(emulator: RunningEmulator, path: string, body?: unknown, method = 'POST') {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

export async function stats(emulator: RunningEmulator) {
  const response = await fetch(`${emulator.url}/_emulator/stats`);
  return (await response.json()) as {
    token_requests: Record<string, number>;
    token_requests_total: number;
    token_requests_by_client: Record<string, Record<string, number>>;
    token_errors: Record<string, number>;
    token_faults: Record<string, number>;
    token_successes: number;
    authorize_requests: number;
    authorize_errors: number;
    redirect_follows: number;
  };
}

/** Reads the consent form's action and hidden fields out of the page, as a browser would submit them. */
export function parseConsentForm(html: string): {
  action: string;
  fields: Record<string, string>;
  users: string[];
} {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no consent form');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[must(m[1], 'm[1]')] = must(m[2], 'm[2]');
  }
  const users = [...html.matchAll(/<input type="radio" id="[^"]+" name="user" value="([^"]+)"/g)].map((m) =>
    must(m[1], 'm[1]'),
  );
  return { action, fields, users };
}

export async function submitConsent(
  emulator: RunningEmulator,
  html: string,
  decision: 'agree' | 'cancel',
  user?: string,
  override: Record<string, string> = {},
) {
  const form = parseConsentForm(html);
  const body = new URLSearchParams({ ...form.fields, decision, ...(user ? { user } : {}), ...override });
  const response = await fetch(`${emulator.url}${form.action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
    redirect: 'manual',
  });
  return {
    status: response.status,
    location: response.headers.get('location'),
    cookie: response.headers.get('set-cookie'),
    text: await response.text(),
  };
}

/** A request through node:http, which (unlike fetch) lets a test set any Host header. */
export function rawRequest(
  emulator: RunningEmulator,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; noHost?: boolean } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${emulator.url}${path}`,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, setHost: !options.noHost },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
