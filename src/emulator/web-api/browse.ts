import { endpoint } from './endpoint.js';
import { GONE_2024, REMOVED_2026 } from './modes.js';
import { notYet } from './stub.js';

/** Browse, markets and recommendations: all removed for development-mode apps (2024 or 2026). */

export const browseEndpoints = [
  endpoint({ operationId: 'get-new-releases', removed: REMOVED_2026, handler: notYet('get-new-releases') }),
  endpoint({ operationId: 'get-categories', removed: REMOVED_2026, handler: notYet('get-categories') }),
  endpoint({ operationId: 'get-a-category', removed: REMOVED_2026, handler: notYet('get-a-category') }),
  endpoint({
    operationId: 'get-featured-playlists',
    removed: GONE_2024,
    handler: notYet('get-featured-playlists'),
  }),
  endpoint({
    operationId: 'get-a-categories-playlists',
    removed: GONE_2024,
    handler: notYet('get-a-categories-playlists'),
  }),
  // /markets: the status is [UNCONF]; the other February 2026 removals answer 403, so this does too.
  endpoint({
    operationId: 'get-available-markets',
    removed: REMOVED_2026,
    handler: notYet('get-available-markets'),
  }),
  endpoint({
    operationId: 'get-recommendations',
    removed: GONE_2024,
    handler: notYet('get-recommendations'),
  }),
  // available-genre-seeds went with /recommendations (2024); its answer is [UNCONF]: the same 404.
  endpoint({
    operationId: 'get-recommendation-genres',
    removed: GONE_2024,
    handler: notYet('get-recommendation-genres'),
  }),
];
