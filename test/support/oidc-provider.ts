/**
 * A real, independent OAuth 2.0 authorization server for tests: panva's `oidc-provider` (v9), configured to
 * look like Spotify's accounts service (SECURITY.md §9.2): `/authorize` and `/api/token`, plain OAuth scopes
 * (`user-read-email …`) via resource indicators with opaque access tokens, PKCE required for every client,
 * refresh tokens issued to every client allowed the refresh_token grant and rotated on every use.
 *
 * Differences from Spotify that remain: op also serves discovery (core never asks for it) and adds `iss` to
 * authorization responses (core checks it against `accountsUrl`'s origin, which is op's issuer here).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const SPOTIFY_LIKE_SCOPES = [
  'user-read-email',
  'user-read-private',
  'user-top-read',
  'user-read-recently-played',
  'playlist-read-private',
] as const;

/** A confidential client's secret with `:`, `+` and `%`: only RFC 6749 §2.3.1 encoding round-trips it. */
export const CONFIDENTIAL_CLIENT = {
  clientId: 'web-app',
  clientSecret: 's3cr3t:with+plus%and%25percent/slash',
  redirectUri: 'http://127.0.0.1:8888/callback',
} as const;

/** A public native client registered with a portless loopback redirect URI, so any port is accepted. */
export const PUBLIC_CLIENT = {
  clientId: 'cli-app',
  redirectUri: 'http://127.0.0.1/callback',
} as const;

const RESOURCE = 'https://api.spotify.test/';

export interface ProviderCounters {
  /** Every POST to the token endpoint, whatever its outcome. */
  tokenRequests: number;
  /** Token endpoint requests by grant_type (as op parsed it). */
  tokenRequestsByGrantType: Record<string, number>;
  grantSuccess: number;
  grantError: number;
  grantRevoked: number;
  /** `error` codes of the failed token requests, in order (e.g. `invalid_grant`). */
  grantErrors: string[];
  /** op's internal reason for each failed token request (`error_detail`, else `error_description`), in order. */
  grantErrorDetails: string[];
}

export interface TestProvider {
  issuer: string;
  counters: ProviderCounters;
  resetCounters(): void;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; this is the little of its API the tests use.
interface ProviderContext {
  method: string;
  path: string;
  oidc?: { params?: Record<string, unknown> };
}
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(fn: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

async function loadProvider(): Promise<ProviderConstructor> {
  const specifier = 'oidc-provider';
  const mod = (await import(specifier)) as { default: ProviderConstructor };
  return mod.default;
}

function emptyCounters(): ProviderCounters {
  return {
    tokenRequests: 0,
    tokenRequestsByGrantType: {},
    grantSuccess: 0,
    grantError: 0,
    grantRevoked: 0,
    grantErrors: [],
    grantErrorDetails: [],
  };
}

/** oidc-provider prints development-only warnings (dev keys, devInteractions, …); drop just those. */
function silenceProviderWarnings(): () => void {
  const { warn, info } = console;
  const filter =
    (original: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      original.apply(console, args);
    };
  console.warn = filter(warn);
  console.info = filter(info);
  return () => {
    console.warn = warn;
    console.info = info;
  };
}

/** Starts op on 127.0.0.1 with an ephemeral port; its issuer is `http://127.0.0.1:<port>` (no path). */
export async function startOidcProvider(): Promise<TestProvider> {
  const restoreConsole = silenceProviderWarnings();
  try {
    return await start(restoreConsole);
  } catch (error) {
    restoreConsole();
    throw error;
  }
}

async function start(restoreConsole: () => void): Promise<TestProvider> {
  const Provider = await loadProvider();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CONFIDENTIAL_CLIENT.clientId,
        client_secret: CONFIDENTIAL_CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [CONFIDENTIAL_CLIENT.redirectUri],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
      },
      {
        client_id: PUBLIC_CLIENT.clientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: [PUBLIC_CLIENT.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    cookies: { keys: ['spotauth-test-only-cookie-key'] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    routes: { authorization: '/authorize', token: '/api/token' },
    ttl: { AccessToken: 3600, ClientCredentials: 3600 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SPOTIFY_LIKE_SCOPES.join(' '),
          accessTokenFormat: 'opaque',
          accessTokenTTL: 3600,
        }),
      },
    },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({ sub }),
    }),
  });

  const counters = emptyCounters();
  let current = counters;
  provider.use(async (ctx, next) => {
    const isToken = ctx.method === 'POST' && ctx.path === '/api/token';
    try {
      await next();
    } finally {
      if (isToken) {
        current.tokenRequests += 1;
        const grantType = ctx.oidc?.params?.['grant_type'];
        const key = typeof grantType === 'string' ? grantType : '(none)';
        current.tokenRequestsByGrantType[key] = (current.tokenRequestsByGrantType[key] ?? 0) + 1;
      }
    }
  });
  provider.on('grant.success', () => {
    current.grantSuccess += 1;
  });
  provider.on('grant.error', (_ctx, error) => {
    current.grantError += 1;
    const e = error as { error?: unknown; error_description?: unknown; error_detail?: unknown };
    current.grantErrors.push(String(e.error));
    current.grantErrorDetails.push(String(e.error_detail ?? e.error_description));
  });
  provider.on('grant.revoked', () => {
    current.grantRevoked += 1;
  });
  // Expected failures (invalid_grant …) are part of the tests; keep op from logging them.
  provider.on('server_error', () => {});

  server.on('request', provider.callback());

  return {
    issuer,
    get counters() {
      return current;
    },
    resetCounters() {
      current = emptyCounters();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      restoreConsole();
    },
  };
}

/** A minimal cookie jar: name → value, ignoring paths (op's cookie names are distinct enough). */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface LoginOptions {
  /** The account to log in as (devInteractions accepts any login). Default `alice`. */
  user?: string;
}

/**
 * Drives op's devInteractions in code: GET the authorize URL, submit the login form, then the consent
 * form, following redirects until the Location is the redirect URI sent in the request. Returns that
 * callback URL (with `code`, `state` and `iss`). Throws on anything unexpected (e.g. an error page).
 */
export async function loginThroughProvider(
  authorizeUrl: URL | string,
  options: LoginOptions = {},
): Promise<string> {
  const start = new URL(authorizeUrl);
  const redirectUri = start.searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error('the authorize URL has no redirect_uri');
  const jar = new CookieJar();
  const user = options.user ?? 'alice';

  const request = async (url: URL, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    const cookie = jar.header();
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(response);
    return response;
  };

  let url = start;
  let response = await request(url);
  for (let hop = 0; hop < 20; hop += 1) {
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      if (!location) throw new Error(`redirect without Location from ${url.pathname}`);
      const next = new URL(location, url);
      await response.body?.cancel();
      if (`${next.origin}${next.pathname}` === redirectUri || next.href.split('?')[0] === redirectUri) {
        return next.href;
      }
      url = next;
      response = await request(url);
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`unexpected HTTP ${response.status} at ${url.pathname}: ${html.slice(0, 300)}`);
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form at ${url.pathname}: ${html.slice(0, 300)}`);
    const target = new URL(action.replace(/&amp;/g, '&'), url);
    let body: URLSearchParams;
    if (html.includes('name="prompt" value="login"')) {
      body = new URLSearchParams({ prompt: 'login', login: user, password: 'x' });
    } else if (html.includes('name="prompt" value="consent"')) {
      body = new URLSearchParams({ prompt: 'consent' });
    } else {
      throw new Error(`unknown interaction page at ${url.pathname}: ${html.slice(0, 300)}`);
    }
    url = target;
    response = await request(url, { method: 'POST', body });
  }
  throw new Error('too many redirects while logging in through oidc-provider');
}
