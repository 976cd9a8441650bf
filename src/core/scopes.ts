import { SpotauthError } from './errors.js';

/** Every Web API scope Spotify documents (FACTS §5). */
export const SPOTIFY_SCOPE_NAMES = [
  'ugc-image-upload',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'app-remote-control',
  'streaming',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-private',
  'playlist-modify-public',
  'user-follow-modify',
  'user-follow-read',
  'user-read-playback-position',
  'user-top-read',
  'user-read-recently-played',
  'user-library-modify',
  'user-library-read',
  'user-read-email',
  'user-read-private',
  'user-soa-link',
  'user-soa-unlink',
  'soa-manage-entitlements',
  'soa-manage-partner',
  'soa-create-partner',
] as const;

/**
 * A scope Spotify documents for the Web API.
 *
 * @see [Spotify: Scopes](https://developer.spotify.com/documentation/web-api/concepts/scopes)
 */
export type SpotifyScope = (typeof SPOTIFY_SCOPE_NAMES)[number];

/**
 * What each scope lets an app do, in plain words (every name above, and only those: the type says so).
 * Kept apart from the names so that code checking scopes (the browser bundle) does not carry the texts.
 * The Open Access (`soa-*`, `user-soa-*`) scopes are listed because Spotify lists them, though only
 * platform partners can use them.
 */
export const SPOTIFY_SCOPES = {
  'ugc-image-upload': 'Upload images to your playlists (cover art)',
  'user-read-playback-state': 'See your devices and what is playing on them',
  'user-modify-playback-state': 'Control playback: play, pause, skip, seek, volume, queue, devices',
  'user-read-currently-playing': 'See what you are listening to right now',
  'app-remote-control': 'Control the Spotify app on your phone (iOS/Android SDKs only)',
  streaming: 'Play music in this app (Web Playback SDK, Premium only)',
  'playlist-read-private': 'See your private playlists',
  'playlist-read-collaborative': 'See collaborative playlists you are part of',
  'playlist-modify-private': 'Create and edit your private playlists',
  'playlist-modify-public': 'Create and edit your public playlists',
  'user-follow-modify': 'Follow and unfollow artists and users for you',
  'user-follow-read': 'See which artists and users you follow',
  'user-read-playback-position': 'See where you stopped in podcast episodes and audiobooks',
  'user-top-read': 'See your top artists and tracks',
  'user-read-recently-played': 'See what you played recently',
  'user-library-modify': 'Add and remove items in Your Library',
  'user-library-read': 'See what is in Your Library',
  'user-read-email': 'See your email address',
  'user-read-private': 'See your subscription type, country and explicit-content settings',
  'user-soa-link': 'Link a partner account to your Spotify account (Open Access partners only)',
  'user-soa-unlink': 'Unlink a partner account from your Spotify account (Open Access partners only)',
  'soa-manage-entitlements': 'Manage entitlements (Open Access partners only)',
  'soa-manage-partner': 'Manage partner information (Open Access partners only)',
  'soa-create-partner': 'Create partners (Open Access platform partners only)',
} as const satisfies Record<SpotifyScope, string>;

/** Scopes people still copy from old examples, with why Spotify refuses them ("Illegal scope"). */
const REFUSED_SCOPES: Record<string, string> = {
  'user-read-birthdate': 'Spotify removed it in 2019',
  'user-personalized': 'it belongs to the Spotify desktop client, not the Web API',
  'playlist-read': 'it belongs to the Spotify desktop client, not the Web API',
  'user-modify': 'it belongs to the Spotify desktop client, not the Web API',
  'user-read-play-history': 'it belongs to the Spotify desktop client, not the Web API',
};

const MAX_SCOPE_LENGTH = 1024;

const KNOWN = new Set<string>(SPOTIFY_SCOPE_NAMES);

/** Whether a string is a documented Spotify scope (exact, case-sensitive). */
export function isSpotifyScope(value: string): value is SpotifyScope {
  return KNOWN.has(value);
}

/**
 * Parses a space/comma-separated string or a list into known scopes, de-duplicated, in the order given;
 * undefined gives `[]`.
 *
 * @throws {@link SpotauthError} `INVALID_SCOPE` naming the first bad scope (and why, for scopes of the
 * desktop client), or for a list over 1024 characters — so nothing is sent to Spotify that it would
 * answer with a blank "Illegal scope" page.
 * @see [Spotify: Scopes](https://developer.spotify.com/documentation/web-api/concepts/scopes)
 */
export function parseScopes(input: string | readonly string[] | undefined): SpotifyScope[] {
  if (input === undefined) return [];
  const joined = typeof input === 'string' ? input : input.join(' ');
  if (joined.length > MAX_SCOPE_LENGTH) {
    throw new SpotauthError(
      'INVALID_SCOPE',
      `The scope list is too long (over ${MAX_SCOPE_LENGTH} characters).`,
    );
  }
  const result: SpotifyScope[] = [];
  for (const scope of joined.split(/[\s,]+/).filter(Boolean)) {
    if (!isSpotifyScope(scope)) {
      const why = REFUSED_SCOPES[scope];
      const printable = JSON.stringify(scope.slice(0, 64));
      throw new SpotauthError(
        'INVALID_SCOPE',
        why
          ? `Scope ${printable} is not accepted by Spotify: ${why}.`
          : `Scope ${printable} is not a Spotify Web API scope. Known scopes: ${SPOTIFY_SCOPE_NAMES.join(', ')}.`,
      );
    }
    if (!result.includes(scope)) result.push(scope);
  }
  return result;
}

/** Parses the `scope` field of a token response: whatever Spotify granted, kept even if unknown to us. */
export function parseGrantedScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  return [...new Set(scope.split(' ').filter(Boolean))];
}

/** What a scope lets an app do, in plain words, for consent and status pages; an unknown scope as is. */
export function describeScope(scope: string): string {
  return isSpotifyScope(scope) ? SPOTIFY_SCOPES[scope] : scope;
}
