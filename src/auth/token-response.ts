import type { AccessToken } from '../tokens/token-manager.js';

/** The JSON every token-handing route returns. Never a refresh token. */
export function tokenResponse(token: AccessToken) {
  return {
    access_token: token.accessToken,
    token_type: 'Bearer' as const,
    expires_at: new Date(token.expiresAt).toISOString(),
    expires_in: Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000)),
    scope: token.scope.join(' '),
  };
}
