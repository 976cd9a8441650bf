/**
 * `spotauth/broker-client`: a small typed client of the token broker API for other Node services. Its types
 * are generated from the broker's OpenAPI document (schema.d.ts); it imports nothing from spotauth's server
 * side, only openapi-fetch.
 *
 * @example
 * const broker = createBrokerClient({ baseUrl: 'https://auth.example', key: process.env.BROKER_KEY ?? '' });
 * for await (const user of broker.users({ expiring_within: 14 })) remind(user.account);
 * const { access_token } = await broker.token('acct_123');
 * const top = await broker.spotify('acct_123', 'me/top/tracks?limit=5'); // a fetch Response
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
/** A linked Spotify user as the broker lists it: account, display name, scopes, grant status (no token). */
export type BrokerUser = components['schemas']['User'];
/** One page of {@link BrokerUser}s, with `next_cursor` when there are more. */
export type BrokerUserList = components['schemas']['UserList'];
/** A user's valid access token, with its expiry and scopes. */
export type BrokerToken = components['schemas']['Token'];
/** The app's client-credentials token (catalogue calls, no user). */
export type BrokerAppToken = components['schemas']['AppToken'];
/**
 * Filters and paging of {@link BrokerClient.listUsers}: `status`, `expiring_within` (days), `scope`,
 * `limit`, `cursor`.
 */
export type ListUsersQuery = NonNullable<operations['listUsers']['parameters']['query']>;

/** Options of {@link createBrokerClient}. */
export interface BrokerClientOptions {
  /** The spotauth server, e.g. `https://auth.example` (the API is under /api/v1). */
  baseUrl: string;
  /** A service key (`sk_<id>_<secret>`) or a SPOTAUTH_BROKER_KEYS key. */
  key: string;
  /** The fetch requests go through (tests, proxies). Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** A refusal from the broker, with its stable `error` code and the fields that come with some codes. */
export class BrokerError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** Stable code: `unauthorized`, `user_forbidden`, `reauth_required`, `grant_missing_scope`, … */
  readonly error: string;
  /** The SpotauthError code behind it, when there is one. */
  readonly code: string | undefined;
  /** `reauth_required`: revoked, expired or invalid_client. */
  readonly reason: string | undefined;
  /** `reauth_required` and `grant_missing_scope`: where to send the user. */
  readonly loginUrl: string | undefined;
  /** `grant_missing_scope`. */
  readonly missingScopes: string[] | undefined;
  /** Seconds, from Retry-After (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: Record<string, unknown>, retryAfter: string | null) {
    const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
    super(text('message') ?? `The broker answered HTTP ${status}.`);
    this.name = 'BrokerError';
    this.status = status;
    this.error = text('error') ?? 'unknown';
    this.code = text('code');
    this.reason = text('reason');
    this.loginUrl = text('login_url');
    this.missingScopes = Array.isArray(body['missing_scopes'])
      ? (body['missing_scopes'] as unknown[]).filter((scope): scope is string => typeof scope === 'string')
      : undefined;
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    this.retryAfter = Number.isFinite(seconds) ? seconds : undefined;
  }
}

/**
 * A client of one broker with one service key. Every method but `spotify` throws {@link BrokerError} for
 * a refusal: `unauthorized` (401: bad key), `user_forbidden` (403: the key may not see this user),
 * `user_not_found` (404), `grant_missing_scope` (see `missingScopes`), `reauth_required` (409: the user
 * must log in again, see `loginUrl`), `rate_limited` or a 503 (see `retryAfter`). A network failure rejects
 * with fetch's own error.
 */
export interface BrokerClient {
  /** The generated openapi-fetch client, for anything the helpers below do not cover. */
  readonly api: Client<paths>;
  /** One page of grants the key may see. */
  listUsers(query?: ListUsersQuery): Promise<BrokerUserList>;
  /** Every grant the key may see, page after page. */
  users(query?: Omit<ListUsersQuery, 'cursor'>): AsyncGenerator<BrokerUser>;
  /** One user's grant (by Spotify account id). */
  user(account: string): Promise<BrokerUser>;
  /** A valid access token; throws BrokerError `reauth_required` (with `loginUrl`) when re-consent is due. */
  token(account: string): Promise<BrokerToken>;
  /** Unlinks the user: grant, tokens and sessions are deleted. */
  deleteUser(account: string): Promise<void>;
  /** The app's client-credentials token (needs the server's client secret). */
  appToken(): Promise<BrokerAppToken>;
  /**
   * A Web API call through the proxy with the user's token: `path` is relative to the Web API base
   * (`me/top/tracks?limit=5`). Returns the Response as it is: Spotify's answer, or the broker's own
   * refusal (`x-spotauth-source: broker`).
   */
  spotify(account: string, path: string, init?: RequestInit): Promise<Response>;
}

/**
 * A typed client of a spotauth server's token broker API (`/api/v1`), for other backend services that
 * need a user's Spotify token without doing OAuth themselves. Nothing is sent until a method is called.
 *
 * @example
 * ```ts
 * const broker = createBrokerClient({ baseUrl: 'https://auth.example', key: process.env.BROKER_KEY ?? '' });
 * try {
 *   const { access_token } = await broker.token('acct_123');
 * } catch (error) {
 *   if (error instanceof BrokerError && error.error === 'reauth_required') notify(error.loginUrl);
 *   else throw error;
 * }
 * ```
 */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const authorization = `Bearer ${options.key}`;
  const fetcher = options.fetch ?? globalThis.fetch;
  const api = createClient<paths>({ baseUrl, headers: { authorization }, fetch: fetcher });

  async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (response.ok) return data as T;
    const body = error !== null && typeof error === 'object' ? (error as Record<string, unknown>) : {};
    throw new BrokerError(response.status, body, response.headers.get('retry-after'));
  }
  const id = (account: string) => ({ params: { path: { id: account } } });

  const client: BrokerClient = {
    api,
    listUsers: (query) => unwrap(api.GET('/api/v1/users', { params: { query: query ?? {} } })),
    async *users(query) {
      let cursor: string | undefined;
      do {
        const page = await client.listUsers({ ...query, ...(cursor ? { cursor } : {}) });
        yield* page.users;
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
    },
    user: (account) => unwrap(api.GET('/api/v1/users/{id}', id(account))),
    token: (account) => unwrap(api.GET('/api/v1/users/{id}/token', id(account))),
    deleteUser: async (account) => {
      await unwrap(api.DELETE('/api/v1/users/{id}', id(account)));
    },
    appToken: () => unwrap(api.GET('/api/v1/app/token')),
    spotify: (account, path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', authorization);
      const relative = path.replace(/^\/+/, '');
      return fetcher(`${baseUrl}/api/v1/users/${encodeURIComponent(account)}/spotify/${relative}`, {
        ...init,
        headers,
      });
    },
  };
  return client;
}
