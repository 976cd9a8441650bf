import {
  type Catalogue,
  type CatalogueAlbum,
  type CatalogueArtist,
  type CatalogueAudiobook,
  type CatalogueChapter,
  type CatalogueEpisode,
  type CatalogueShow,
  type CatalogueTrack,
  MARKETS,
  type UserPlaylist,
} from '../catalogue.js';
import type { ApiContext } from './endpoint.js';
import { cachedShape } from './shape-cache.js';

/**
 * Catalogue entities in the Web API's JSON shapes, with absolute URLs on the emulator's origin.
 * Development-mode apps (2026) no longer get `available_markets`, `popularity`, `linked_from` (track),
 * `album_group`, `available_markets`, `label`, `popularity` (album), `followers`, `popularity` (artist),
 * `available_markets`, `publisher` (show, audiobook) or `available_markets` (chapter): WEB-API-2026.md §3.
 */

export interface Shape {
  origin: string;
  /** Development mode: leave out the fields listed above. */
  dev: boolean;
  catalogue: Catalogue;
}

export function shapeOf(ctx: ApiContext): Shape {
  return { origin: ctx.origin, dev: ctx.mode === 'development', catalogue: ctx.state.catalogue };
}

const NESTED_LIMIT = 50;

/** Cover art served by the emulator itself, so pages showing it load nothing external. */
export function coverImages(origin: string, id: string) {
  return [
    { url: `${origin}/images/cover/${id}.svg`, height: 640, width: 640 },
    { url: `${origin}/images/cover/${id}.svg`, height: 300, width: 300 },
    { url: `${origin}/images/cover/${id}.svg`, height: 64, width: 64 },
  ];
}

function links(s: Shape, type: string, id: string) {
  return {
    external_urls: { spotify: `https://open.spotify.com/${type}/${id}` },
    href: `${s.origin}/v1/${type}s/${id}`,
    id,
  };
}

/** An offset page embedded in a parent object (album.tracks, show.episodes, audiobook.chapters). */
function nestedPage<T>(s: Shape, path: string, items: readonly T[], toJson: (item: T) => unknown) {
  const link = (offset: number) => `${s.origin}/v1/${path}?offset=${offset}&limit=${NESTED_LIMIT}`;
  return {
    href: link(0),
    items: items.slice(0, NESTED_LIMIT).map(toJson),
    limit: NESTED_LIMIT,
    next: items.length > NESTED_LIMIT ? link(NESTED_LIMIT) : null,
    offset: 0,
    previous: null,
    total: items.length,
  };
}

const markets = (s: Shape) => (s.dev ? {} : { available_markets: [...MARKETS] });

export const simplifiedArtistJson = cachedShape(
  'simplifiedArtistJson',
  (s: Shape, artist: CatalogueArtist) => {
    return {
      ...links(s, 'artist', artist.id),
      name: artist.name,
      type: 'artist' as const,
      uri: `spotify:artist:${artist.id}`,
    };
  },
);

export const artistJson = cachedShape('artistJson', (s: Shape, artist: CatalogueArtist) => {
  return {
    ...simplifiedArtistJson(s, artist),
    ...(s.dev ? {} : { followers: { href: null, total: artist.followers } }),
    genres: artist.genres,
    images: coverImages(s.origin, artist.id),
    ...(s.dev ? {} : { popularity: artist.popularity }),
  };
});

function artistsOf(s: Shape, ids: readonly string[]) {
  return ids.map((id) => simplifiedArtistJson(s, s.catalogue.get('artist', id)));
}

export const simplifiedAlbumJson = cachedShape(
  'simplifiedAlbumJson',
  (s: Shape, album: CatalogueAlbum, albumGroup?: string) => {
    return {
      album_type: album.albumType,
      total_tracks: album.trackIds.length,
      ...markets(s),
      ...links(s, 'album', album.id),
      images: coverImages(s.origin, album.id),
      name: album.name,
      release_date: album.releaseDate,
      release_date_precision: 'day' as const,
      type: 'album' as const,
      uri: `spotify:album:${album.id}`,
      artists: artistsOf(s, album.artistIds),
      ...(albumGroup !== undefined && !s.dev ? { album_group: albumGroup } : {}),
    };
  },
);

export const albumJson = cachedShape('albumJson', (s: Shape, album: CatalogueAlbum) => {
  const year = album.releaseDate.slice(0, 4);
  const label = `${s.catalogue.get('artist', album.artistIds[0] ?? album.id).name} Records`;
  return {
    ...simplifiedAlbumJson(s, album),
    tracks: nestedPage(s, `albums/${album.id}/tracks`, album.trackIds, (id) =>
      simplifiedTrackJson(s, s.catalogue.get('track', id)),
    ),
    copyrights: [
      { text: `© ${year} ${label}`, type: 'C' },
      { text: `℗ ${year} ${label}`, type: 'P' },
    ],
    // external_ids came back in March 2026 (MAR26), so every mode gets them.
    external_ids: { upc: String(100_000_000_000 + ((album.id.charCodeAt(0) * 7919) % 899_999_999_999)) },
    genres: [],
    ...(s.dev
      ? {}
      : { label, popularity: s.catalogue.get('artist', album.artistIds[0] ?? album.id).popularity }),
  };
});

export const simplifiedTrackJson = cachedShape('simplifiedTrackJson', (s: Shape, track: CatalogueTrack) => {
  return {
    artists: artistsOf(s, track.artistIds),
    ...markets(s),
    disc_number: 1,
    duration_ms: track.durationMs,
    explicit: track.explicit,
    ...links(s, 'track', track.id),
    is_local: false,
    name: track.name,
    // Null for new apps since November 2024 (WEB-API-2026.md §3).
    preview_url: null,
    track_number: track.trackNumber,
    type: 'track' as const,
    uri: `spotify:track:${track.id}`,
  };
});

export const trackJson = cachedShape('trackJson', (s: Shape, track: CatalogueTrack) => {
  const { artists, ...rest } = simplifiedTrackJson(s, track);
  return {
    album: simplifiedAlbumJson(s, s.catalogue.get('album', track.albumId)),
    artists,
    ...rest,
    external_ids: { isrc: track.isrc },
    ...(s.dev ? {} : { popularity: track.popularity }),
  };
});

function html(text: string): string {
  return `<p>${text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`;
}

export const simplifiedShowJson = cachedShape('simplifiedShowJson', (s: Shape, show: CatalogueShow) => {
  return {
    ...markets(s),
    copyrights: [],
    description: show.description,
    html_description: html(show.description),
    explicit: show.explicit,
    ...links(s, 'show', show.id),
    images: coverImages(s.origin, show.id),
    is_externally_hosted: false,
    languages: ['en'],
    media_type: 'audio',
    name: show.name,
    ...(s.dev ? {} : { publisher: show.publisher }),
    type: 'show' as const,
    uri: `spotify:show:${show.id}`,
    total_episodes: show.episodeIds.length,
  };
});

export const showJson = cachedShape('showJson', (s: Shape, show: CatalogueShow) => {
  return {
    ...simplifiedShowJson(s, show),
    episodes: nestedPage(s, `shows/${show.id}/episodes`, show.episodeIds, (id) =>
      simplifiedEpisodeJson(s, s.catalogue.get('episode', id)),
    ),
  };
});

export const simplifiedEpisodeJson = cachedShape(
  'simplifiedEpisodeJson',
  (s: Shape, episode: CatalogueEpisode) => {
    return {
      audio_preview_url: null,
      description: episode.description,
      html_description: html(episode.description),
      duration_ms: episode.durationMs,
      explicit: episode.explicit,
      ...links(s, 'episode', episode.id),
      images: coverImages(s.origin, episode.showId),
      is_externally_hosted: false,
      is_playable: true,
      language: 'en',
      languages: ['en'],
      name: episode.name,
      release_date: episode.releaseDate,
      release_date_precision: 'day' as const,
      type: 'episode' as const,
      uri: `spotify:episode:${episode.id}`,
    };
  },
);

export const episodeJson = cachedShape('episodeJson', (s: Shape, episode: CatalogueEpisode) => {
  return {
    ...simplifiedEpisodeJson(s, episode),
    show: simplifiedShowJson(s, s.catalogue.get('show', episode.showId)),
  };
});

export const simplifiedAudiobookJson = cachedShape(
  'simplifiedAudiobookJson',
  (s: Shape, book: CatalogueAudiobook) => {
    return {
      authors: book.authors.map((name) => ({ name })),
      ...markets(s),
      copyrights: [],
      description: book.description,
      html_description: html(book.description),
      edition: 'Unabridged',
      explicit: book.explicit,
      ...links(s, 'audiobook', book.id),
      images: coverImages(s.origin, book.id),
      languages: ['en'],
      media_type: 'audio',
      name: book.name,
      narrators: book.narrators.map((name) => ({ name })),
      ...(s.dev ? {} : { publisher: book.publisher }),
      type: 'audiobook' as const,
      uri: `spotify:audiobook:${book.id}`,
      total_chapters: book.chapterIds.length,
    };
  },
);

export const audiobookJson = cachedShape('audiobookJson', (s: Shape, book: CatalogueAudiobook) => {
  return {
    ...simplifiedAudiobookJson(s, book),
    chapters: nestedPage(s, `audiobooks/${book.id}/chapters`, book.chapterIds, (id) =>
      simplifiedChapterJson(s, s.catalogue.get('chapter', id)),
    ),
  };
});

export const simplifiedChapterJson = cachedShape(
  'simplifiedChapterJson',
  (s: Shape, chapter: CatalogueChapter) => {
    const description = `${chapter.name}.`;
    return {
      audio_preview_url: null,
      ...markets(s),
      chapter_number: chapter.chapterNumber,
      description,
      html_description: html(description),
      duration_ms: chapter.durationMs,
      explicit: false,
      ...links(s, 'chapter', chapter.id),
      images: coverImages(s.origin, chapter.audiobookId),
      is_playable: true,
      languages: ['en'],
      name: chapter.name,
      release_date: chapter.releaseDate,
      release_date_precision: 'day' as const,
      // The spec (and Spotify's reference) give chapters type "episode" and spotify:episode: URIs.
      type: 'episode' as const,
      uri: `spotify:episode:${chapter.id}`,
    };
  },
);

export const chapterJson = cachedShape('chapterJson', (s: Shape, chapter: CatalogueChapter) => {
  return {
    ...simplifiedChapterJson(s, chapter),
    audiobook: simplifiedAudiobookJson(s, s.catalogue.get('audiobook', chapter.audiobookId)),
  };
});

export function albumContextJson(origin: string, albumId: string) {
  return {
    type: 'album',
    href: `${origin}/v1/albums/${albumId}`,
    external_urls: { spotify: `https://open.spotify.com/album/${albumId}` },
    uri: `spotify:album:${albumId}`,
  };
}

/**
 * A playlist as /me/playlists lists it. `primary_color` is not in the spec but Spotify sends it (null or a
 * hex colour, §3), and strict clients expect it. `tracks` is sent beside `items`: the sources disagree on
 * whether dev mode still sends it (§1) and keeping it breaks no client.
 */
export function playlistJson(
  origin: string,
  playlist: UserPlaylist,
  owner: { id: string; displayName: string | null },
) {
  const items = { href: `${origin}/v1/playlists/${playlist.id}/items`, total: playlist.trackCount };
  return {
    collaborative: playlist.collaborative,
    description: playlist.description,
    external_urls: { spotify: `https://open.spotify.com/playlist/${playlist.id}` },
    href: `${origin}/v1/playlists/${playlist.id}`,
    id: playlist.id,
    images: coverImages(origin, playlist.id).slice(0, 1),
    name: playlist.name,
    owner: {
      external_urls: { spotify: `https://open.spotify.com/user/${owner.id}` },
      href: `${origin}/v1/users/${owner.id}`,
      id: owner.id,
      type: 'user' as const,
      uri: `spotify:user:${owner.id}`,
      display_name: owner.displayName,
    },
    primary_color: null,
    public: playlist.public,
    snapshot_id: playlist.snapshotId,
    items,
    tracks: items,
    type: 'playlist',
    uri: `spotify:playlist:${playlist.id}`,
  };
}

/** The letter a cover image shows: the catalogue item's initial, or "♪". */
export function coverLabel(catalogue: Catalogue, id: string): string {
  for (const type of ['artist', 'album', 'track', 'show', 'audiobook'] as const) {
    if (catalogue.isDeclared(type, id)) return catalogue.get(type, id).name.charAt(0).toUpperCase();
  }
  return '♪';
}
