import type { RunningEmulator } from '../../src/emulator/index.js';
import { ALBUMS, ARTISTS, TRACKS } from '../../src/emulator/index.js';
import { call, controlCall, tokenFor } from './state-helpers.js';

/**
 * A fixed walk through the Web API and the control API, on a fixed clock, whose every answer is recorded
 * (status, content type, body with the emulator's origin replaced) so that a faster emulator can be held
 * to the bytes an earlier one sent (fixtures/responses.golden.json, written by the code before it).
 * Nothing here creates ids at random: playlists are seeded with their ids, covers are not uploaded.
 */

/** The clock of every golden run: far from a minute boundary, so the epoch is the same whenever it runs. */
export const GOLDEN_NOW = Date.UTC(2026, 2, 14, 9, 26, 30);

export interface Recorded {
  request: string;
  status: number;
  contentType: string | null;
  body: string;
}

const must = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('missing catalogue entry');
  return value;
};

const TRACK = must(TRACKS[0]);
const FEATURING = must(TRACKS[2]);
const ALBUM = must(ALBUMS[1]);
const ARTIST = must(ARTISTS[3]);
/** Ids nobody declared: the synthetic catalogue answers them. */
const SYNTHETIC = '1AbCdEfGhIjKlMnOpQrStU';
const SYNTHETIC_2 = '7ZyXwVuTsRqPoNmLkJiHgF';
export const PLAYLIST_A = '0PlAyLiStAaAaAaAaAaAaA';
export const PLAYLIST_B = '0PlAyLiStBbBbBbBbBbBbB';
export const PLAYLIST_C = '0PlAyLiStCcCcCcCcCcCcC';

const uri = (id: string) => `spotify:track:${id}`;

/** alice's seed: three playlists (one collaborative, followed by bob), a library, a history. */
export function aliceSeed() {
  return {
    user_id: 'alice',
    library: [
      uri(TRACK.id),
      { uri: uri(SYNTHETIC), added_at: GOLDEN_NOW - 86_400_000 },
      `spotify:album:${ALBUM.id}`,
      `spotify:artist:${ARTIST.id}`,
    ],
    playlists: [
      {
        id: PLAYLIST_A,
        name: 'Golden A',
        description: 'The <first> & "only"',
        items: [
          ...TRACKS.slice(0, 6).map((t, i) => ({ uri: uri(t.id), added_at: GOLDEN_NOW - i * 60_000 })),
          uri(SYNTHETIC),
          { uri: uri(SYNTHETIC_2), added_by: 'bob', added_at: '2025-12-24T18:00:00.000Z' },
          uri(TRACK.id),
          'spotify:episode:4rOoJ6Egrf8K2IrywzwOMk',
        ],
      },
      { id: PLAYLIST_B, name: 'Golden B', public: false, items: [uri(FEATURING.id)] },
      {
        id: PLAYLIST_C,
        name: 'Golden C',
        collaborative: true,
        followers: ['bob'],
        items: TRACKS.slice(40, 45).map((t) => uri(t.id)),
      },
    ],
    devices: [
      { name: 'Golden Desk', is_active: true },
      { name: 'Golden Phone', type: 'Smartphone' },
    ],
    recently_played: [
      { uri: uri(TRACK.id), played_at: GOLDEN_NOW - 600_000, context_uri: `spotify:playlist:${PLAYLIST_A}` },
      { uri: uri(SYNTHETIC), played_at: GOLDEN_NOW - 900_000 },
    ],
  };
}

/** Reads that depend only on the state: run after the writes, and again after a restart from the file. */
export function stateReads(): [string, string][] {
  return [
    ['GET', '/v1/me/playlists?limit=50'],
    ['GET', `/v1/playlists/${PLAYLIST_A}`],
    ['GET', `/v1/playlists/${PLAYLIST_A}/items?limit=50&offset=0`],
    ['GET', `/v1/playlists/${PLAYLIST_A}/items?limit=7&offset=20`],
    ['GET', `/v1/playlists/${PLAYLIST_A}/items?fields=items(added_at,item(name,album(name))),total`],
    ['GET', `/v1/playlists/${PLAYLIST_B}`],
    ['GET', `/v1/playlists/${PLAYLIST_C}/items`],
    ['GET', '/v1/me/tracks?limit=50'],
    ['GET', '/v1/me/albums'],
    ['GET', '/v1/me/following?type=artist'],
    ['GET', '/v1/me/player/recently-played?limit=50'],
    ['GET', '/v1/me/player'],
  ];
}

const CATALOGUE_READS: [string, string][] = [
  ['GET', '/v1/me'],
  ['GET', `/v1/tracks/${TRACK.id}`],
  ['GET', `/v1/tracks/${FEATURING.id}`],
  ['GET', `/v1/tracks/${SYNTHETIC}`],
  ['GET', `/v1/tracks/${SYNTHETIC}?fields=name`],
  ['GET', `/v1/tracks?ids=${TRACK.id},${SYNTHETIC},${SYNTHETIC_2}`],
  ['GET', `/v1/albums/${ALBUM.id}`],
  ['GET', `/v1/albums/${SYNTHETIC}`],
  ['GET', `/v1/albums/${ALBUM.id}/tracks?limit=2&offset=1`],
  ['GET', `/v1/artists/${ARTIST.id}`],
  ['GET', `/v1/artists/${SYNTHETIC_2}`],
  ['GET', `/v1/artists/${ARTIST.id}/albums`],
  ['GET', `/v1/artists/${ARTIST.id}/top-tracks`],
  ['GET', `/v1/artists/${SYNTHETIC}/top-tracks`],
  ['GET', '/v1/shows/4rOoJ6Egrf8K2IrywzwOMk'],
  ['GET', '/v1/episodes/4rOoJ6Egrf8K2IrywzwOMk'],
  ['GET', '/v1/audiobooks/4rOoJ6Egrf8K2IrywzwOMk'],
  ['GET', '/v1/chapters/4rOoJ6Egrf8K2IrywzwOMk'],
  ['GET', '/v1/search?q=a&type=track,artist&limit=10'],
  ['GET', '/v1/search?q=quiet&type=show,episode,audiobook,album'],
  ['GET', '/v1/me/top/tracks?limit=20'],
  ['GET', '/v1/me/top/artists?time_range=long_term&limit=5&offset=3'],
  ['GET', '/v1/users/bob'],
  ['GET', '/v1/tracks/0000000000000000000000'],
  ['GET', '/v1/tracks/not-an-id'],
  ['GET', '/v1/nothing-here'],
];

const WRITES: [string, string, unknown?][] = [
  ['PUT', `/v1/me/library?uris=${encodeURIComponent(uri(SYNTHETIC_2))}`],
  ['DELETE', `/v1/me/library?uris=${encodeURIComponent(uri(TRACK.id))}`],
  ['POST', `/v1/playlists/${PLAYLIST_A}/items?uris=${encodeURIComponent(uri(FEATURING.id))}&position=3`],
  ['POST', `/v1/playlists/${PLAYLIST_A}/items`, { uris: [uri(SYNTHETIC), uri(TRACK.id)] }],
  ['DELETE', `/v1/playlists/${PLAYLIST_A}/items`, { items: [{ uri: uri(TRACK.id) }] }],
  ['DELETE', `/v1/playlists/${PLAYLIST_A}/items`, { items: [{ uri: uri(SYNTHETIC), positions: [0] }] }],
  ['DELETE', `/v1/playlists/${PLAYLIST_A}/items`, { items: [{ uri: uri(SYNTHETIC), positions: [6] }] }],
  ['PUT', `/v1/playlists/${PLAYLIST_A}/items`, { range_start: 2, insert_before: 8, range_length: 3 }],
  ['PUT', `/v1/playlists/${PLAYLIST_B}/items`, { uris: [uri(SYNTHETIC_2), uri(ALBUM.trackIds[0] ?? '')] }],
  ['PUT', `/v1/playlists/${PLAYLIST_B}`, { name: 'Golden B renamed', description: 'now ✓' }],
  ['POST', `/v1/playlists/${PLAYLIST_C}/items`, { uris: [uri(TRACK.id)] }],
  ['PUT', '/v1/me/player/play', { context_uri: `spotify:playlist:${PLAYLIST_A}`, offset: { position: 2 } }],
  ['POST', '/v1/me/player/next'],
];

/** Runs the walk against a started emulator (clock at GOLDEN_NOW), recording every answer. */
export async function runGoldenWalk(emulator: RunningEmulator): Promise<Recorded[]> {
  const out: Recorded[] = [];
  const dev = tokenFor(emulator, 'alice', { scopes: [...ALL_SCOPES] });
  const ext = tokenFor(emulator, 'alice', { scopes: [...ALL_SCOPES], extended: true });
  const bob = tokenFor(emulator, 'bob', { scopes: [...ALL_SCOPES] });
  const record = async (label: string, method: string, path: string, token: string, body?: unknown) => {
    const result = await call(emulator, method, path, token, body);
    out.push({
      request: `${label} ${method} ${path}`,
      status: result.status,
      contentType: result.headers.get('content-type'),
      body: result.text.replaceAll(emulator.url, '{origin}'),
    });
  };
  const seeded = await controlCall(emulator, 'POST', 'state', aliceSeed());
  out.push({ request: 'seed', status: seeded.status, contentType: null, body: JSON.stringify(seeded.json) });
  for (const [method, path] of CATALOGUE_READS) {
    await record('dev', method, path, dev);
    await record('ext', method, path, ext);
  }
  for (const [method, path] of stateReads()) await record('dev', method, path, dev);
  for (const [method, path, body] of WRITES) await record('dev', method, path, dev, body);
  await record('bob', 'GET', `/v1/playlists/${PLAYLIST_C}`, bob);
  await record('bob', 'GET', `/v1/playlists/${PLAYLIST_A}/items`, bob);
  await record('bob', 'GET', '/v1/me/playlists', bob);
  for (const [method, path] of stateReads()) {
    await record('dev', method, path, dev);
    // The full object of the big playlist only once: the fixture stays small enough to review.
    if (!path.endsWith(PLAYLIST_A)) await record('ext', method, path, ext);
  }
  // A declared entity replaces the synthetic one of the same id everywhere it is shown.
  const loaded = await controlCall(emulator, 'POST', 'catalogue', {
    artists: [{ id: SYNTHETIC_2, name: 'Declared Later' }],
    albums: [{ id: SYNTHETIC, name: 'Now Declared', artists: [SYNTHETIC_2], tracks: [{ name: 'New One' }] }],
  });
  out.push({
    request: 'catalogue',
    status: loaded.status,
    contentType: null,
    body: JSON.stringify(loaded.json),
  });
  await record('dev', 'GET', `/v1/albums/${SYNTHETIC}`, dev);
  await record('dev', 'GET', `/v1/artists/${SYNTHETIC_2}`, dev);
  await record('ext', 'GET', `/v1/tracks/${SYNTHETIC}`, ext);
  await record('dev', 'GET', `/v1/playlists/${PLAYLIST_A}/items?limit=50`, dev);
  await record('dev', 'GET', '/v1/search?q=declared&type=artist,album', dev);
  const missing = await controlCall(emulator, 'POST', 'catalogue/missing', { uris: [uri(TRACK.id)] });
  out.push({
    request: 'missing',
    status: missing.status,
    contentType: null,
    body: JSON.stringify(missing.json),
  });
  await record('dev', 'GET', `/v1/tracks/${TRACK.id}`, dev);
  await record('dev', 'GET', `/v1/playlists/${PLAYLIST_A}/items?limit=50`, dev);
  const state = await controlCall(emulator, 'GET', 'state?user_id=alice');
  out.push({ request: 'state', status: state.status, contentType: null, body: JSON.stringify(state.json) });
  return out;
}

/** Reads after a restart from a state file: the same user and playlists, answered the same way. */
export async function runStateReads(emulator: RunningEmulator): Promise<Recorded[]> {
  const out: Recorded[] = [];
  const dev = tokenFor(emulator, 'alice', { scopes: [...ALL_SCOPES] });
  for (const [method, path] of stateReads()) {
    const result = await call(emulator, method, path, dev);
    out.push({
      request: `dev ${method} ${path}`,
      status: result.status,
      contentType: result.headers.get('content-type'),
      body: result.text.replaceAll(emulator.url, '{origin}'),
    });
  }
  const state = await controlCall(emulator, 'GET', 'state?user_id=alice');
  out.push({ request: 'state', status: state.status, contentType: null, body: JSON.stringify(state.json) });
  return out;
}

export const ALL_SCOPES = [
  'user-read-private',
  'user-read-email',
  'user-library-read',
  'user-library-modify',
  'user-follow-read',
  'user-follow-modify',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-public',
  'playlist-modify-private',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'user-read-recently-played',
  'user-top-read',
] as const;
