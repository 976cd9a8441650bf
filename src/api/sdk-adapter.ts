import type { TokenManager } from '../tokens/token-manager.js';

/** The token shape of @spotify/web-api-ts-sdk (declared here so spotauth does not depend on the SDK). */
export interface SdkAccessToken {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  expires?: number;
}

/**
 * An `IAuthStrategy` for the official `@spotify/web-api-ts-sdk`: `new SpotifyApi(new TokenManagerAuthStrategy(manager, user))`.
 * The SDK asks for a token before each call and we hand it one from the token manager, refreshed and
 * single-flight as always. The refresh token stays in the store: the SDK gets an empty string, since it
 * never needs to refresh by itself.
 */
export class TokenManagerAuthStrategy {
  readonly #tokens: TokenManager;
  readonly #user: string | undefined;

  /** `user` undefined → the app (client-credentials) token. */
  constructor(tokens: TokenManager, user?: string) {
    this.#tokens = tokens;
    this.#user = user;
  }

  setConfiguration(_configuration: unknown): void {}

  async getOrCreateAccessToken(): Promise<SdkAccessToken> {
    if (this.#user === undefined) {
      const token = await this.#tokens.getAppToken();
      return { access_token: token, token_type: 'Bearer', expires_in: 0, refresh_token: '' };
    }
    const token = await this.#tokens.getToken(this.#user);
    const expiresIn = Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000));
    return {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: '',
      expires: token.expiresAt,
    };
  }

  async getAccessToken(): Promise<SdkAccessToken | null> {
    try {
      return await this.getOrCreateAccessToken();
    } catch {
      return null;
    }
  }

  /** The SDK calls this on logout; the grant itself is removed with TokenManager.deleteGrant. */
  removeAccessToken(): void {}
}
