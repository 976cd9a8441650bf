import createClient, { type Client } from 'openapi-fetch';
import {
  type AccessTokenSource,
  ApiRequest,
  type ApiRetryOptions,
  createAuthorizedFetch,
  DEFAULT_API_RETRY,
  DEFAULT_API_TIMEOUT_MS,
  discardBody,
  type RateLimitCooldown,
  scopesFor,
  sharedCooldown,
} from './authorized-fetch.js';
import type { components, paths } from './spotify-web-api.js';

/** Every documented Web API path and its operations, generated from Spotify's OpenAPI spec. */
export type SpotifyPaths = paths;
/**
 * The Web API's object types (`SpotifySchemas['TrackObject']`, …), generated from Spotify's OpenAPI spec.
 *
 * @see [Spotify: Web API reference](https://developer.spotify.com/documentation/web-api)
 */
export type SpotifySchemas = components['schemas'];

/**
 * The part of a TokenManager that SpotifyApi uses. Structural, so that the browser build (which has no
 * TokenManager: it needs Node) can type-check this file without Node's types.
 */
export interface ApiTokenManager {
  /** Where the Web API is (`SpotifyAuthConfig.apiUrl`). */
  readonly auth: {
    /** The app's configuration. */
    readonly config: {
      /** The Web API base URL. */
      readonly apiUrl: URL;
    };
  };
  /** A valid access token for the user. */
  getAccessToken(user: string): Promise<string>;
  /** Refreshes the user's token, after the Web API answered 401 to the current one. */
  refreshNow(user: string): Promise<{
    /** The new access token. */
    accessToken: string;
  }>;
  /** After a 401 to `rejected`: a newer stored token if there is one, else a refresh (TokenManager has it; else refreshNow is used). */
  refreshRejected?(
    user: string,
    rejected: string,
  ): Promise<{
    /** The access token to retry with. */
    accessToken: string;
  }>;
  /** The app (client-credentials) token; `force` gets a new one. */
  getAppToken(force?: boolean): Promise<string>;
}

/**
 * Options of {@link SpotifyApi}. Give exactly one token source: `tokens` (with `user`, or without for the
 * app token) or `accessToken` (with `apiUrl`).
 */
export interface SpotifyApiOptions {
  /** Tokens from a TokenManager (server, CLI)… */
  tokens?: ApiTokenManager;
  /** The user (Spotify account id) whose token to use; omit for the app token (catalogue calls only). */
  user?: string;
  /** …or from any other source, such as the browser client (then `apiUrl` is required). */
  accessToken?: AccessTokenSource;
  /** Default: the token manager's configured apiUrl (https://api.spotify.com/v1). */
  apiUrl?: string;
  /**
   * Retries of 429, 5xx and network failures, per field. Defaults: 3 attempts, backoff from 250 ms up to
   * 4 s, a Retry-After of up to 5 s waited out.
   */
  retry?: Partial<ApiRetryOptions>;
  /** Default: one cooldown per API URL, shared by every client in the process. */
  cooldown?: RateLimitCooldown;
  /** The fetch calls go through (tests, proxies). Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** How long each request (each attempt) may take, body included, before TIMEOUT, ms. Default 30 000. */
  timeoutMs?: number;
}

/**
 * Something with a `next` page URL: Spotify's paging objects. Both fields are optional because the spec's
 * paging types declare `items` optional (it sits in an allOf branch without `required`).
 */
interface Page<T> {
  items?: T[] | undefined;
  next?: string | null | undefined;
}

/** The JSON body of a path's GET 200 response, as the spec types it. */
type OkBody<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': infer T } } } };
}
  ? T
  : never;

/**
 * Spotify's array query parameters are comma-separated (`type=track,artist`: the spec says `explode: false`),
 * whereas openapi-fetch's default would repeat them (`type=track&type=artist`). A fixed function also spares
 * openapi-fetch building a serializer on every call.
 */
export function serializeQuery(query: Record<string, unknown>): string {
  let out = '';
  for (const key in query) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value)
      ? value.map((item) => encodeURIComponent(String(item))).join(',')
      : encodeURIComponent(String(value));
    out += `${out ? '&' : ''}${encodeURIComponent(key)}=${text}`;
  }
  return out;
}

const PATH_PARAM = /\{([^}]+)\}/g;

/** `/tracks/{id}` → `/tracks/<id, percent-encoded>` (the spec only has simple path parameters). */
export function serializePath(pathname: string, params: Record<string, unknown>): string {
  return pathname.replace(PATH_PARAM, (match, name: string) => {
    const value = params[name];
    return value === undefined || value === null ? match : encodeURIComponent(String(value));
  });
}

/**
 * A typed Web API client acting as one user (or as the app). Every call carries a valid bearer token; a
 * 401 is answered by one refresh and one retry; a 429 waits out a short Retry-After (shared by every
 * client of the process) or throws; 5xx and network failures of idempotent calls are retried with
 * jittered backoff.
 *
 * `api.client` is an openapi-fetch client over every documented endpoint
 * (`api.client.GET('/tracks/{id}', { params: { path: { id } } })`); failures are thrown as
 * SpotauthErrors, so `data` is always set, except for 204 No Content, which `data()` turns into null.
 *
 * Calls throw {@link SpotauthError}: `API_UNAUTHORIZED` (401 even after a refresh), `MISSING_SCOPE`
 * (403 for a scope the grant lacks; see `requiredScopes`), `USER_NOT_ALLOWLISTED` (403: a development-mode
 * app and a user not on its list), `RATE_LIMITED` (429 with a long Retry-After, or `QUOTA_EXCEEDED`),
 * `SPOTIFY_UNAVAILABLE` (5xx), `TIMEOUT`, `NETWORK`, `API_ERROR` (any other refusal), and whatever the
 * token source throws (e.g. `REAUTH_REQUIRED`, `NOT_LOGGED_IN`).
 *
 * @example
 * ```ts
 * const api = new SpotifyApi({ tokens, user: profile.id });
 * const me = await api.me();
 * const { data } = await api.client.GET('/tracks/{id}', { params: { path: { id: '4uLU6hMCjMI75M1A2tKUQC' } } });
 * for await (const playlist of api.paginate(await api.data(api.client.GET('/me/playlists')))) {
 *   console.log(playlist.name);
 * }
 * ```
 *
 * @see [Spotify: API calls](https://developer.spotify.com/documentation/web-api/concepts/api-calls)
 * @see [Spotify: Rate limits](https://developer.spotify.com/documentation/web-api/concepts/rate-limits)
 */
export class SpotifyApi {
  /** The openapi-fetch client: typed `GET`/`POST`/`PUT`/`DELETE` over every documented path. */
  readonly client: Client<paths>;
  readonly #options: SpotifyApiOptions;
  readonly #fetch: (input: Request | ApiRequest) => Promise<Response>;
  readonly #apiUrl: string;

  /** @throws TypeError when not exactly one of `tokens` and `accessToken` is given, or `apiUrl` is missing. */
  constructor(options: SpotifyApiOptions) {
    this.#options = options;
    const { tokens, accessToken } = options;
    const apiUrl = options.apiUrl ?? tokens?.auth.config.apiUrl.href;
    const source =
      tokens === undefined
        ? accessToken
        : accessToken === undefined
          ? tokenManagerSource(tokens, options.user)
          : undefined;
    if (apiUrl === undefined || source === undefined) {
      throw new TypeError('SpotifyApi needs either `tokens` (a TokenManager) or `accessToken` and `apiUrl`.');
    }
    this.#apiUrl = apiUrl.replace(/\/+$/, '');
    this.#fetch = createAuthorizedFetch({
      accessToken: source,
      apiUrl: this.#apiUrl,
      scopesFor,
      retry: { ...DEFAULT_API_RETRY, ...options.retry },
      cooldown: options.cooldown ?? sharedCooldown(this.#apiUrl),
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS,
    });
    this.client = createClient<paths>({
      baseUrl: this.#apiUrl,
      fetch: this.#fetch as (input: Request) => Promise<Response>,
      // A plain request holder instead of a WHATWG Request: about 8-10 % of a call's time on the
      // api-overhead bench. Middleware added with `api.client.use()` sees it (url, method, headers, body,
      // signal); see ApiRequest.
      Request: ApiRequest as unknown as typeof Request,
      querySerializer: serializeQuery,
      pathSerializer: serializePath,
    });
  }

  /** The same client for another user, sharing the rate-limit cooldown. */
  forUser(user: string | undefined): SpotifyApi {
    return new SpotifyApi({ ...this.#options, user });
  }

  /** Unwraps an openapi-fetch result: the body, or null for 204 No Content. */
  async data<T>(request: Promise<{ data?: T; response: Response }>): Promise<T | null> {
    const { data, response } = await request;
    return response.status === 204 || data === undefined ? null : data;
  }

  /**
   * GET `path` (a spec path without parameters) straight through the authorized fetch: the typed helpers
   * below skip openapi-fetch's per-call request building, which is most of the client's overhead.
   */
  async #get<P extends keyof paths>(path: P, query?: Record<string, unknown>): Promise<OkBody<P> | null> {
    const search = query ? serializeQuery(query) : '';
    const response = await this.#fetch(new ApiRequest(`${this.#apiUrl}${path}${search ? `?${search}` : ''}`));
    if (response.status === 204) {
      discardBody(response);
      return null;
    }
    const text = await response.text();
    return text ? (JSON.parse(text) as OkBody<P>) : null;
  }

  /** The current user's profile (`GET /me`). Fields Spotify removed for development-mode apps are absent. */
  me() {
    return this.#get('/me');
  }

  /** null when nothing is playing (204 No Content). */
  currentlyPlaying() {
    return this.#get('/me/player/currently-playing');
  }

  /** The user's top tracks (`GET /me/top/tracks`, needs `user-top-read`); `limit` 1–50, default 10. */
  topTracks(limit = 10) {
    return this.#get('/me/top/tracks', { limit });
  }

  /** The user's top artists (`GET /me/top/artists`, needs `user-top-read`); `limit` 1–50, default 10. */
  topArtists(limit = 10) {
    return this.#get('/me/top/artists', { limit });
  }

  /**
   * Iterates every item of a paged result, following `next` links with the same auth and retry rules.
   *
   * @throws Error for a `next` link outside the Web API (the token is never sent elsewhere).
   */
  async *paginate<T>(first: Page<T> | null): AsyncGenerator<T> {
    let page = first;
    while (page) {
      if (page.items) yield* page.items;
      if (!page.next) return;
      const next = new URL(page.next);
      if (!next.href.startsWith(`${this.#apiUrl}/`)) {
        throw new Error(`Refusing to follow a next link outside the Web API: ${next.origin}`);
      }
      const response = await this.#fetch(new ApiRequest(next, { method: 'GET' }));
      page = (await response.json()) as Page<T>;
    }
  }
}

function tokenManagerSource(tokens: ApiTokenManager, user: string | undefined): AccessTokenSource {
  if (user === undefined) return (force) => tokens.getAppToken(force);
  return (force, rejected) => {
    if (!force) return tokens.getAccessToken(user);
    const refreshed =
      rejected !== undefined && tokens.refreshRejected
        ? tokens.refreshRejected(user, rejected)
        : tokens.refreshNow(user);
    return refreshed.then((token) => token.accessToken);
  };
}

/** `new SpotifyApi(options)`, for those who prefer a function. */
export function createSpotifyApi(options: SpotifyApiOptions): SpotifyApi {
  return new SpotifyApi(options);
}
