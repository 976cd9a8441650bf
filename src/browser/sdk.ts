import { SdkAuthStrategy } from '../api/sdk-adapter.js';
import { isSpotauthError } from '../core/errors.js';
import { webApiFetch } from './api-fetch.js';
import type { BrowserAuth } from './browser-auth.js';

// The official SDK's Web API root is fixed (no option): sdkFetch maps it to the configured apiUrl.
const SDK_API_ROOT = 'https://api.spotify.com/v1';

/**
 * Keeps code written for the official `@spotify/web-api-ts-sdk` and gives it spotauth's login and refresh:
 *
 * ```ts
 * const sdk = new SpotifyApi(new BrowserAuthStrategy(auth), { fetch: sdkFetch(auth) });
 * ```
 *
 * Like the SDK's own PKCE strategy, the first call finishes a login coming back from Spotify or, when
 * nobody is logged in (or the grant died), goes to Spotify's login page (`loginWhenNeeded: false` throws
 * NOT_LOGGED_IN / REAUTH_REQUIRED instead). `sdk.logOut()` logs out every tab.
 */
export class BrowserAuthStrategy extends SdkAuthStrategy {
  constructor(auth: BrowserAuth, options: { loginWhenNeeded?: boolean } = {}) {
    const loginWhenNeeded = options.loginWhenNeeded ?? true;
    super({
      token: async () => {
        await auth.handleRedirect();
        try {
          return await auth.getToken();
        } catch (error) {
          if (
            loginWhenNeeded &&
            (isSpotauthError(error, 'NOT_LOGGED_IN') || isSpotauthError(error, 'REAUTH_REQUIRED'))
          ) {
            await auth.login();
            return new Promise<never>(() => {}); // the page is on its way to Spotify
          }
          throw error;
        }
      },
      current: () => auth.getToken(),
      remove: () => {
        auth.logout().catch(() => {});
      },
    });
  }
}

/**
 * A `fetch` for the SDK's options: its requests go through {@link webApiFetch} (401 → one refresh and
 * retry, 429 → Retry-After up to a cap, typed SpotauthErrors instead of the SDK's bare Error strings).
 */
export function sdkFetch(
  auth: BrowserAuth,
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  const send = webApiFetch(auth);
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const mapped = url.startsWith(`${SDK_API_ROOT}/`)
      ? `${auth.apiUrl}${url.slice(SDK_API_ROOT.length)}`
      : url;
    return send(mapped, init);
  };
}
