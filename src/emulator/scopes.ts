/**
 * The emulator's own copy of Spotify's scope list (FACTS §5), deliberately not imported from src/core:
 * the emulator plays the other party, and a cross-check test compares the two lists.
 * Values are the consent-page wording.
 */
export const EMULATOR_SCOPES: Readonly<Record<string, string>> = {
  'ugc-image-upload': 'Upload images to your playlists',
  'user-read-playback-state': 'See your devices and what is playing on them',
  'user-modify-playback-state': 'Control playback on your devices (play, pause, skip, volume, queue)',
  'user-read-currently-playing': 'See what you are listening to right now',
  'app-remote-control': 'Control the Spotify app on your phone',
  streaming: 'Play music and podcasts in this app',
  'playlist-read-private': 'See your private playlists',
  'playlist-read-collaborative': 'See collaborative playlists you are part of',
  'playlist-modify-private': 'Create and edit your private playlists',
  'playlist-modify-public': 'Create and edit your public playlists',
  'user-follow-modify': 'Follow and unfollow artists and users for you',
  'user-follow-read': 'See which artists and users you follow',
  'user-read-playback-position': 'See where you stopped in episodes and audiobooks',
  'user-top-read': 'See your top artists and tracks',
  'user-read-recently-played': 'See what you played recently',
  'user-library-modify': 'Add and remove items in Your Library',
  'user-library-read': 'See what is in Your Library',
  'user-read-email': 'See your email address',
  'user-read-private': 'See your subscription type, country and explicit-content settings',
  'user-soa-link': 'Link a partner account to your Spotify account',
  'user-soa-unlink': 'Unlink a partner account from your Spotify account',
  'soa-manage-entitlements': 'Manage entitlements (Open Access partners)',
  'soa-manage-partner': 'Manage partner information (Open Access partners)',
  'soa-create-partner': 'Create partners (Open Access platform partners)',
};

/** Spotify answers an over-long scope list the same way as an unknown scope; this keeps hostile input cheap. */
const MAX_SCOPE_PARAM = 2048;

/**
 * Splits the `scope` parameter (space-separated, FACTS §1.1). Returns null when any entry is not a
 * Web API scope — the caller shows Spotify's blank "Illegal scope" page.
 */
export function parseScopeParam(value: string | undefined): string[] | null {
  if (value === undefined) return [];
  if (value.length > MAX_SCOPE_PARAM) return null;
  const scopes: string[] = [];
  for (const scope of value.split(/\s+/)) {
    if (scope === '') continue;
    if (!Object.hasOwn(EMULATOR_SCOPES, scope)) return null;
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  return scopes;
}

export function describeScope(scope: string): string {
  return EMULATOR_SCOPES[scope] ?? scope;
}
