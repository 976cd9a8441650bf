import createClient, { type Client } from 'openapi-fetch';
import {
  type AccessTokenSource,
  ApiRequest,
  type ApiRetryOptions,
  createAuthorizedFetch,
  DEFAULT_API_RETRY,
  discardBody,
  type RateLimitCooldown,
  scopesFor,
  sharedCooldown,
} from './authorized-fetch.js';
import type { components, paths } from './spotify-web-api.js';

export type SpotifyPaths = paths;
export type SpotifySchemas = components['schemas'];

/**
 * The part of a TokenManager that SpotifyApi uses. Structural, so that the browser build (which has no
 * TokenManager: it needs Node) can type-check this file without Node's types.
 */
export interface ApiTokenManager {
  readonly auth: { readonly config: { readonly apiUrl: URL } };
  getAccessToken(user: string): Promise<string>;
  refreshNow(user: string): Promise<{ accessToken: string }>;
  getAppToken(force?: boolean): Promise<string>;
}

export interface SpotifyApiOptions {
  /** Tokens from a TokenManager (server, CLI)… */
  tokens?: ApiTokenManager | undefined;
  /** The user (Spotify account id) whose token to use; omit for the app token (catalogue calls only). */
  user?: string | undefined;
  /** …or from any other source, such as the browser client (then `apiUrl` is required). */
  accessToken?: AccessTokenSource | undefined;
  /** Default: the token manager's configured apiUrl (https://api.spotify.com/v1). */
  apiUrl?: string | undefined;
  retry?: Partial<ApiRetryOptions> | undefined;
  /** Default: one cooldown per API URL, shared by every client in the process. */
  cooldown?: RateLimitCooldown | undefined;
  fetch?: typeof fetch | undefined;
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
 * A typed Web API client. `api.client` is an openapi-fetch client over every documented endpoint
 * (`api.client.GET('/tracks/{id}', { params: { path: { id } } })`); failures are thrown as
 * SpotauthErrors, so `data` is always set, except for 204 No Content, which `data()` turns into null.
 */
export class SpotifyApi {
  readonly client: Client<paths>;
  readonly #options: SpotifyApiOptions;
  readonly #fetch: (input: Request | ApiRequest) => Promise<Response>;
  readonly #apiUrl: string;

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

  me() {
    return this.#get('/me');
  }

  /** null when nothing is playing (204 No Content). */
  currentlyPlaying() {
    return this.#get('/me/player/currently-playing');
  }

  topTracks(limit = 10) {
    return this.#get('/me/top/tracks', { limit });
  }

  topArtists(limit = 10) {
    return this.#get('/me/top/artists', { limit });
  }

  /** Iterates every item of a paged result, following `next` links with the same auth and retry rules. */
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
  return (force) =>
    force ? tokens.refreshNow(user).then((token) => token.accessToken) : tokens.getAccessToken(user);
}

export function createSpotifyApi(options: SpotifyApiOptions): SpotifyApi {
  return new SpotifyApi(options);
}
