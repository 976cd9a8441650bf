import { ApiError, type Removal } from './endpoint.js';
import type { OwnerPremiumBody } from './variants.js';

/**
 * What development-mode apps lost, with the bodies Spotify sends (WEB-API-2026.md summary table, §7).
 * Where the table says [UNCONF] we reuse the captured body of the nearest sibling; each choice is named.
 */

/** Captured with this exact spacing (bjarneo/cliamp#54; §7): sent byte for byte. */
export const FORBIDDEN_RAW = '{"error": {"status": 403, "message": "Forbidden" }}';
export const INVALID_LIMIT_RAW = '{"error": {"status": 400, "message": "Invalid limit"}}';

const forbidden = () => new ApiError(403, 'Forbidden', { raw: FORBIDDEN_RAW });

/** February 2026 removals: 403 Forbidden; lifted by the per-app `legacy_endpoints` switch. */
export const REMOVED_2026: Removal = { era: '2026', error: forbidden() };

/**
 * 2024 removals that answer 404 (related-artists, recommendations, featured and category playlists).
 * The captures give the status only; the body is our pick: the gateway's unknown-route answer [UNCONF].
 */
export const GONE_2024: Removal = {
  era: '2024',
  error: new ApiError(404, 'Service not found'),
};

/** audio-features: 403 with no message at all (jwilsson#281; spotipy#1173). audio-analysis [UNCONF]: same. */
export const AUDIO_FEATURES_2024: Removal = { era: '2024', error: new ApiError(403, null) };

/**
 * A development-mode app whose owner has no Premium, on any /v1 call (mralexsaavedra/spotiarr#4, 2026-03;
 * also seen on GET /v1/me/) [3P]. The text is captured; whether it comes as JSON in Spotify's error shape
 * or as plain text is [UNCONF]: JSON by default, plain text with `owner_premium_body: "text"`.
 */
export const OWNER_NOT_PREMIUM_MESSAGE =
  'Active premium subscription required for the owner of the app. When the subscription status changes, it can take a few hours before requests are allowed again.';

export function ownerNotPremium(body: OwnerPremiumBody): ApiError {
  return body === 'text'
    ? new ApiError(403, OWNER_NOT_PREMIUM_MESSAGE, {
        raw: OWNER_NOT_PREMIUM_MESSAGE,
        contentType: 'text/plain',
      })
    : new ApiError(403, OWNER_NOT_PREMIUM_MESSAGE);
}

/** Invalid limit with Spotify's spacing (search limit above 10, §1). */
export function invalidLimit(): ApiError {
  return new ApiError(400, 'Invalid limit', { raw: INVALID_LIMIT_RAW });
}
