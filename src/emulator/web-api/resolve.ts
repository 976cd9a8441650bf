import {
  ALBUMS_BY_ID,
  ARTISTS_BY_ID,
  artistJson,
  coverImages,
  simplifiedAlbumJson,
  TRACKS,
  TRACKS_BY_ID,
  trackJson,
} from '../catalogue.js';
import type { EmulatorState } from '../state.js';
import type { ParsedUri, UriKind } from '../user-state/uris.js';

/**
 * What the state handlers need from the catalogue: does an item exist, its JSON, and the items of a
 * playback context. Every well-formed id exists unless declared missing (/_emulator/catalogue/missing);
 * entities the fixed catalogue does not name get a small stand-in object of their type.
 */

export function exists(state: EmulatorState, item: Pick<ParsedUri, 'kind' | 'id'>): boolean {
  return !state.missingIds.has(`${item.kind}:${item.id}`);
}

function standIn(origin: string, kind: UriKind, id: string) {
  const plural = kind === 'user' ? 'users' : `${kind}s`;
  return {
    external_urls: { spotify: `https://open.spotify.com/${kind}/${id}` },
    href: `${origin}/v1/${plural}/${id}`,
    id,
    images: coverImages(origin, id),
    name: `${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)} ${id.slice(0, 6)}`,
    type: kind,
    uri: `spotify:${kind}:${id}`,
  };
}

/** Full JSON of a catalogue item (track, album, artist, episode, show, audiobook). */
export function itemJson(origin: string, kind: UriKind, id: string): Record<string, unknown> {
  if (kind === 'track') {
    const track = TRACKS_BY_ID.get(id);
    if (track) return trackJson(origin, track);
  }
  if (kind === 'album') {
    const album = ALBUMS_BY_ID.get(id);
    if (album) return simplifiedAlbumJson(origin, album);
  }
  if (kind === 'artist') {
    const artist = ARTISTS_BY_ID.get(id);
    if (artist) return artistJson(origin, artist);
  }
  return standIn(origin, kind, id);
}

/** The items (track or episode URIs) a context plays, or null when it cannot be played. */
export function contextItems(kind: UriKind, id: string): string[] | null {
  if (kind === 'album') {
    const album = ALBUMS_BY_ID.get(id);
    return album ? album.trackIds.map((t) => `spotify:track:${t}`) : null;
  }
  if (kind === 'artist') {
    const tracks = TRACKS.filter((t) => t.artistIds.includes(id));
    return tracks.length > 0 ? tracks.map((t) => `spotify:track:${t.id}`) : null;
  }
  return null;
}

export function contextJson(origin: string, uri: string | null) {
  if (uri === null) return null;
  const [, kind = '', id = ''] = uri.split(':');
  return {
    type: kind,
    href: `${origin}/v1/${kind}s/${id}`,
    external_urls: { spotify: `https://open.spotify.com/${kind}/${id}` },
    uri,
  };
}
