import type { Catalogue } from '../catalogue.js';
import type { EmulatorState } from '../state.js';
import type { ParsedUri, UriKind } from '../user-state/uris.js';
import type { ApiContext } from './endpoint.js';
import {
  albumJson,
  artistJson,
  audiobookJson,
  chapterJson,
  episodeJson,
  shapeOf,
  simplifiedShowJson,
  trackJson,
} from './shapes.js';

/**
 * What the state handlers need from the catalogue: does an item exist, its JSON, and the items of a
 * playback context. Every well-formed id resolves (the synthetic catalogue) unless declared missing.
 */

export function exists(state: EmulatorState, item: Pick<ParsedUri, 'kind' | 'id'>): boolean {
  return !state.missingIds.has(`${item.kind}:${item.id}`);
}

/** The JSON of an item as the library lists and the player show it (saved shows are simplified, OAS). */
export function itemJson(ctx: ApiContext, kind: UriKind, id: string): Record<string, unknown> {
  const s = shapeOf(ctx);
  const c = ctx.state.catalogue;
  switch (kind) {
    case 'track':
      return trackJson(s, c.get('track', id));
    case 'album':
      return albumJson(s, c.get('album', id));
    case 'artist':
      return artistJson(s, c.get('artist', id));
    case 'episode':
      return episodeJson(s, c.get('episode', id));
    case 'show':
      return simplifiedShowJson(s, c.get('show', id));
    case 'audiobook':
      return audiobookJson(s, c.get('audiobook', id));
    case 'chapter':
      return chapterJson(s, c.get('chapter', id));
    default:
      return {
        external_urls: { spotify: `https://open.spotify.com/${kind}/${id}` },
        href: `${ctx.origin}/v1/${kind}s/${id}`,
        id,
        type: kind,
        uri: `spotify:${kind}:${id}`,
      };
  }
}

/** The playable items (track, episode or chapter URIs) of a context, in context order. */
export function contextItems(catalogue: Catalogue, kind: UriKind, id: string): string[] | null {
  switch (kind) {
    case 'album':
      return catalogue.get('album', id).trackIds.map((t) => `spotify:track:${t}`);
    case 'artist':
      return catalogue.artistTopTracks(id).map((t) => `spotify:track:${t.id}`);
    case 'show':
      return catalogue.get('show', id).episodeIds.map((e) => `spotify:episode:${e}`);
    case 'audiobook':
      return catalogue.get('audiobook', id).chapterIds.map((c) => `spotify:chapter:${c}`);
    default:
      return null;
  }
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
