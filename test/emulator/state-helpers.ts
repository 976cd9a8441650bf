import type { RunningEmulator } from '../../src/emulator/index.js';
import { CLIENT_ID } from './helpers.js';

/** Every scope the library, playlist and player endpoints name. */
export const STATE_SCOPES = [
  'user-library-read',
  'user-library-modify',
  'user-follow-read',
  'user-follow-modify',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-public',
  'playlist-modify-private',
  'ugc-image-upload',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'user-read-recently-played',
];

export const EXTENDED_APP = 'extended-test-app';

/** A user token straight from the emulator's state (the token endpoint is tested elsewhere). */
export function tokenFor(
  emulator: RunningEmulator,
  user: string,
  options: { scopes?: string[]; extended?: boolean } = {},
): string {
  if (options.extended && !emulator.state.apps.has(EXTENDED_APP)) {
    emulator.state.addApp({ clientId: EXTENDED_APP, redirectUris: [], mode: 'extended' });
  }
  return emulator.state.issueAccessToken(
    options.extended ? EXTENDED_APP : CLIENT_ID,
    user,
    options.scopes ?? STATE_SCOPES,
    null,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: test-side access to untyped JSON
export type Json = any;

export interface ApiResult {
  status: number;
  text: string;
  json: Json;
  headers: Headers;
}

export async function call(
  emulator: RunningEmulator,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  rawBody?: string,
): Promise<ApiResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (rawBody !== undefined) headers['content-type'] = 'image/jpeg';
  const response = await fetch(path.startsWith('http') ? path : `${emulator.url}${path}`, {
    method,
    headers,
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, headers: response.headers };
}

export async function controlCall(emulator: RunningEmulator, method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Json) : undefined };
}

export async function advanceClock(emulator: RunningEmulator, seconds: number): Promise<void> {
  const result = await controlCall(emulator, 'POST', 'clock', { advance_seconds: seconds });
  if (result.status !== 200) throw new Error(`clock: ${result.status}`);
}
