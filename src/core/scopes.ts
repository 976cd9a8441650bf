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
 * Every Web API scope Spotify documents, each with what it lets an app do in words for the person being
 * asked (consent and status pages). Each key's comment is Spotify's own description, for developers.
 * Kept apart from the names so that code checking scopes (the browser bundle) does not carry the texts.
 * The Open Access (`soa-*`, `user-soa-*`) scopes are listed because Spotify lists them, though only
 * platform partners can use them.
 *
 * @see [Spotify: Scopes](https://developer.spotify.com/documentation/web-api/concepts/scopes)
 */
export const SPOTIFY_SCOPES = {
  /** Write access to user-provided images (playlist cover upload). */
  'ugc-image-upload': 'Upload images to your playlists (cover art)',
  /** Read access to a user's player state (devices, playback state, currently playing). */
  'user-read-playback-state': 'See your devices and what is playing on them',
  /** Write access to a user's playback state (play, pause, seek, skip, volume, queue, transfer). */
  'user-modify-playback-state': 'Control playback: play, pause, skip, seek, volume, queue, devices',
  /** Read access to a user's currently playing content (also Get Queue). */
  'user-read-currently-playing': 'See what you are listening to right now',
  /** Remote control of playback; iOS and Android SDKs only. */
  'app-remote-control': 'Control the Spotify app on your phone (iOS/Android SDKs only)',
  /** Control playback of a Spotify track; Web Playback SDK, Premium required. */
  streaming: 'Play music in this app (Web Playback SDK, Premium only)',
  /** Read access to the user's private playlists. */
  'playlist-read-private': 'See your private playlists',
  /** Include collaborative playlists when listing a user's playlists. */
  'playlist-read-collaborative': 'See collaborative playlists you are part of',
  /** Write access to the user's private playlists. */
  'playlist-modify-private': 'Create and edit your private playlists',
  /** Write access to the user's public playlists. */
  'playlist-modify-public': 'Create and edit your public playlists',
  /** Write and delete access to the list of followed artists and users. */
  'user-follow-modify': 'Follow and unfollow artists and users for you',
  /** Read access to the list of followed artists and users. */
  'user-follow-read': 'See which artists and users you follow',
  /** Read access to the playback position in episodes and shows. */
  'user-read-playback-position': 'See where you stopped in podcast episodes and audiobooks',
  /** Read access to the user's top artists and tracks. */
  'user-top-read': 'See your top artists and tracks',
  /** Read access to recently played tracks. */
  'user-read-recently-played': 'See what you played recently',
  /** Write and delete access to the user's library. */
  'user-library-modify': 'Add and remove items in Your Library',
  /** Read access to the user's library. */
  'user-library-read': 'See what is in Your Library',
  /** Read access to the user's email address. */
  'user-read-email': 'See your email address',
  /** Read access to subscription details (account type), country and explicit-content settings. */
  'user-read-private': 'See your subscription type, country and explicit-content settings',
  /** Open Access: link a partner account. */
  'user-soa-link': 'Link a partner account to your Spotify account (Open Access partners only)',
  /** Open Access: unlink a partner account. */
  'user-soa-unlink': 'Unlink a partner account from your Spotify account (Open Access partners only)',
  /** Open Access partners: manage entitlements. */
  'soa-manage-entitlements': 'Manage entitlements (Open Access partners only)',
  /** Open Access partners: manage partner information. */
  'soa-manage-partner': 'Manage partner information (Open Access partners only)',
  /** Open Access platform partners: create partners. */
  'soa-create-partner': 'Create partners (Open Access platform partners only)',
} as const satisfies Record<SpotifyScope, string>;

const DESKTOP = 'it belongs to the Spotify desktop client, not the Web API';
/** Scopes people still copy from old examples, with why Spotify refuses them ("Illegal scope"). */
const REFUSED_SCOPES: Record<string, string> = {
  'user-read-birthdate': 'Spotify removed it in 2019',
  'user-personalized': DESKTOP,
  'playlist-read': DESKTOP,
  'user-modify': DESKTOP,
  'user-read-play-history': DESKTOP,
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
      // Own keys only: `constructor` or `__proto__` would otherwise read Object.prototype's members.
      const why = Object.hasOwn(REFUSED_SCOPES, scope) ? REFUSED_SCOPES[scope] : undefined;
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
