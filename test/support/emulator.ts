import { SpotifyAuth, type SpotifyAuthConfig } from '../../src/core/index.js';
import {
  type EmulatorOptions,
  type RunningEmulator,
  SANDBOX_APP,
  startEmulator,
} from '../../src/emulator/index.js';

export interface TokenRequestCounts {
  authorization_code: number;
  refresh_token: number;
  client_credentials: number;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, quiet: true, ...options });
}

export async function tokenRequests(emulator: RunningEmulator): Promise<TokenRequestCounts> {
  const response = await fetch(`${emulator.url}/_emulator/stats`);
  const stats = (await response.json()) as { token_requests: TokenRequestCounts };
  return stats.token_requests;
}

export async function control(emulator: RunningEmulator, path: string, body: unknown): Promise<Response> {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path} failed: ${response.status} ${await response.text()}`);
  return response;
}

/** A SpotifyAuth pointed at the emulator, confidential (sandbox secret) unless `clientSecret: undefined`. */
export function emulatorAuth(
  emulator: RunningEmulator,
  overrides: Partial<SpotifyAuthConfig> = {},
): SpotifyAuth {
  return new SpotifyAuth({
    clientId: SANDBOX_APP.clientId,
    clientSecret: SANDBOX_APP.clientSecret,
    redirectUri: 'http://127.0.0.1:8888/callback',
    accountsUrl: emulator.url,
    apiUrl: `${emulator.url}/v1`,
    allowInsecureHttp: true,
    ...overrides,
  });
}

/** Follows /authorize (with the emulator auto-approving) and returns the callback URL it redirects to. */
export async function authorizeRedirect(url: URL): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || !location) {
    throw new Error(
      `authorize did not redirect: ${response.status} ${(await response.text()).slice(0, 200)}`,
    );
  }
  return location;
}

/** A full authorization-code login against an auto-approving emulator. */
export async function login(auth: SpotifyAuth, scope: string[] = ['user-read-email', 'user-read-private']) {
  const request = await auth.createAuthorizationRequest({ scope });
  const callback = await authorizeRedirect(request.url);
  const validated = auth.validateCallback(callback, { state: request.state });
  const tokens = await auth.exchangeCode(validated, {
    codeVerifier: request.codeVerifier,
    redirectUri: request.redirectUri,
    requestedScope: request.scope,
  });
  return { request, callback, tokens };
}
