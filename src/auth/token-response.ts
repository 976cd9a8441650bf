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

/**
 * Each user's token JSON, serialised once per second: it changes only with the token or the second
 * (`expires_in`), and browser code asks for it again and again (`GET {base}/token`).
 */
export class TokenBodies {
  readonly #bodies = new Map<string, { accessToken: string; second: number; body: string }>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  get(user: string, token: AccessToken): string {
    const second = Math.floor(Date.now() / 1000);
    let cached = this.#bodies.get(user);
    if (cached === undefined || cached.second !== second || cached.accessToken !== token.accessToken) {
      if (this.#bodies.size >= this.#max) this.#bodies.clear();
      cached = { accessToken: token.accessToken, second, body: JSON.stringify(tokenResponse(token)) };
      this.#bodies.set(user, cached);
    }
    return cached.body;
  }
}
