import { createHash } from 'node:crypto';
import { type Catalogue, recentlyPlayed, seededRandom, TRACKS, userPlaylists } from '../catalogue.js';
import { defaultDevices, type PlayRecord } from './player.js';
import { newPlaylist, type Playlist } from './playlists.js';
import type { UserDefaults } from './store.js';
import { parseUri } from './uris.js';

/**
 * The state a user starts with, derived from the catalogue and the user id only (no clock, no
 * randomness), so every run and every restart regenerates the same defaults.
 */

/** Items of default playlists were added over the year before this date. */
const DEFAULT_ADDED_BEFORE = Date.UTC(2025, 5, 1);

/** How long an item plays: the catalogue's duration of the track, episode or chapter. */
export function durationIn(catalogue: Catalogue, uri: string): number {
  const parsed = parseUri(uri);
  if (parsed?.kind === 'episode') return catalogue.get('episode', parsed.id).durationMs;
  if (parsed?.kind === 'chapter') return catalogue.get('chapter', parsed.id).durationMs;
  if (parsed?.kind === 'track') return catalogue.get('track', parsed.id).durationMs;
  // Not playable (the player never holds these); a stable 2:30–5:00 keeps the clock arithmetic sound.
  return 150_000 + (createHash('sha256').update(`duration:${uri}`).digest().readUInt32BE(0) % 150_000);
}

function defaultPlaylists(userId: string): Playlist[] {
  return userPlaylists(userId).map((p) => {
    const random = seededRandom(`playlist-items:${userId}:${p.id}`);
    const items = Array.from({ length: p.trackCount }, (_, i) => ({
      uri: `spotify:track:${(TRACKS[Math.floor(random() * TRACKS.length)] ?? TRACKS[0])?.id ?? ''}`,
      addedAt: DEFAULT_ADDED_BEFORE - (p.trackCount - i) * 3_600_000,
      addedBy: userId,
    }));
    return newPlaylist(
      p.id,
      userId,
      { name: p.name, description: p.description, public: p.public, collaborative: p.collaborative },
      items,
    );
  });
}

export function catalogueDefaults(epoch: number, catalogue: Catalogue): UserDefaults {
  return {
    durationOf: (uri) => durationIn(catalogue, uri),
    devices: defaultDevices,
    playlists: defaultPlaylists,
    history: (userId): PlayRecord[] =>
      recentlyPlayed(userId, epoch).map((entry) => ({
        uri: `spotify:track:${entry.track.id}`,
        playedAt: entry.playedAt,
        contextUri: `spotify:album:${entry.track.albumId}`,
      })),
  };
}
