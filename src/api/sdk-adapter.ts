/** The token shape of @spotify/web-api-ts-sdk (declared here so spotauth does not depend on the SDK). */
export interface SdkAccessToken {
  /** The bearer token. */
  access_token: string;
  /** Always `'Bearer'`. */
  token_type: string;
  /** Seconds left, 0 when unknown. */
  expires_in: number;
  /** Always empty: the refresh token stays with spotauth, which refreshes for the SDK. */
  refresh_token: string;
  /** When the token expires, epoch ms, when known. */
  expires?: number;
}

/** A token as an {@link SdkTokenSource} hands it out. */
export interface SdkToken {
  /** The bearer token. */
  accessToken: string;
  /** When it expires, epoch ms, when known. */
  expiresAt?: number | undefined;
}

/** Where an SDK strategy gets its tokens: a TokenManager (server, CLI) or the browser client. */
export interface SdkTokenSource {
  /** A valid access token; `expiresAt` (epoch ms) when known. */
  token(): Promise<SdkToken>;
  /** For the SDK's getAccessToken(): the token if there is one, without starting a login. Default: token(). */
  current?(): Promise<SdkToken>;
  /** The SDK's `logOut()`. */
  remove?(): void;
}

/**
 * An `IAuthStrategy` for the official `@spotify/web-api-ts-sdk` over any SdkTokenSource. The SDK asks for
 * a token before each call and gets one from spotauth, refreshed and single-flight as always. The refresh
 * token stays with spotauth: the SDK gets an empty string, since it never needs to refresh by itself.
 * Runtime-neutral: the browser client's adapter is this class too.
 */
export class SdkAuthStrategy {
  readonly #source: SdkTokenSource;

  constructor(source: SdkTokenSource) {
    this.#source = source;
  }

  /** Part of the SDK's interface; spotauth needs no SDK configuration. */
  setConfiguration(_configuration: unknown): void {}

  /** A valid token from the source (the SDK calls this before each request). */
  async getOrCreateAccessToken(): Promise<SdkAccessToken> {
    return sdkToken(await this.#source.token());
  }

  /** The current token without starting a login, or null when there is none or it cannot be had. */
  async getAccessToken(): Promise<SdkAccessToken | null> {
    try {
      return sdkToken(await (this.#source.current ?? this.#source.token).call(this.#source));
    } catch {
      return null;
    }
  }

  /** The SDK's `logOut()`: forwarded to the source's `remove`, if it has one. */
  removeAccessToken(): void {
    this.#source.remove?.();
  }
}

function sdkToken({ accessToken, expiresAt }: SdkToken): SdkAccessToken {
  if (expiresAt === undefined) {
    return { access_token: accessToken, token_type: 'Bearer', expires_in: 0, refresh_token: '' };
  }
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)),
    refresh_token: '',
    expires: expiresAt,
  };
}

/** The part of a TokenManager the SDK strategy uses (structural: this file is part of the browser build). */
export interface SdkTokenManager {
  /** A valid token for the user, with its expiry. */
  getToken(user: string): Promise<{
    /** The bearer token. */
    accessToken: string;
    /** When it expires, epoch ms. */
    expiresAt: number;
  }>;
  /** The app (client-credentials) token. */
  getAppToken(): Promise<string>;
}

/**
 * The official `@spotify/web-api-ts-sdk` over a TokenManager's tokens. `user` undefined → the app
 * (client-credentials) token. The SDK's logOut() leaves the grant alone: remove it with
 * TokenManager.deleteGrant.
 *
 * @example
 * ```ts
 * import { SpotifyApi } from '@spotify/web-api-ts-sdk';
 * const sdk = new SpotifyApi(new TokenManagerAuthStrategy(tokens, profile.id));
 * const top = await sdk.currentUser.topItems('tracks');
 * ```
 */
export class TokenManagerAuthStrategy extends SdkAuthStrategy {
  constructor(tokens: SdkTokenManager, user?: string) {
    super({
      token: async () =>
        user === undefined ? { accessToken: await tokens.getAppToken() } : tokens.getToken(user),
    });
  }
}
