import { authConfigFromEnv } from '../../core/env.js';
import { SpotifyAuth } from '../../core/spotify-auth.js';
import type { TokenRecord, TokenStore } from '../../stores/types.js';
import { TokenManager } from '../../tokens/token-manager.js';

/** A token manager for a stored CLI login: the app and URLs it was made with, unless the environment overrides them. */
export function managerFor(record: TokenRecord, store: TokenStore): TokenManager {
  const meta = record.meta ?? {};
  const config = authConfigFromEnv(process.env, {
    clientId: process.env['SPOTIFY_CLIENT_ID'] || meta['clientId'] || '',
    clientSecret: undefined,
    accountsUrl: process.env['SPOTAUTH_ACCOUNTS_URL'] || meta['accountsUrl'],
    apiUrl: process.env['SPOTAUTH_API_URL'] || meta['apiUrl'],
  });
  return new TokenManager({ auth: new SpotifyAuth(config), store });
}
