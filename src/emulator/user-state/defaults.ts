import { createHash } from 'node:crypto';
import { recentlyPlayed, seededRandom, TRACKS, TRACKS_BY_ID, userPlaylists } from '../catalogue.js';
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

/** Catalogue tracks have their duration; any other well-formed item gets a stable 2:30–5:00. */
export function durationOf(uri: string): number {
  const parsed = parseUri(uri);
  const known = parsed?.kind === 'track' ? TRACKS_BY_ID.get(parsed.id) : undefined;
  if (known) return known.durationMs;
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

export function catalogueDefaults(epoch: number): UserDefaults {
  return {
    durationOf,
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
