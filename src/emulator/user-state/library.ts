import { type ParsedUri, type UriKind, uriOf } from './uris.js';

/**
 * What a user saved (tracks, albums, episodes, shows, audiobooks) and follows (artists, users,
 * playlists). One ordered set per kind; saving again keeps the first `added_at`, as Spotify's lists do.
 */

export const LIBRARY_KINDS = [
  'track',
  'album',
  'episode',
  'show',
  'audiobook',
  'artist',
  'user',
  'playlist',
] as const satisfies readonly UriKind[];
export type LibraryKind = (typeof LIBRARY_KINDS)[number];

export interface LibraryEntry {
  id: string;
  /** ms since the epoch, emulator clock. */
  addedAt: number;
}

export type LibraryJson = Partial<Record<LibraryKind, { id: string; added_at: number }[]>>;

export function isLibraryKind(kind: string): kind is LibraryKind {
  return (LIBRARY_KINDS as readonly string[]).includes(kind);
}

export class Library {
  private readonly sets = new Map<LibraryKind, Map<string, number>>();

  private set(kind: LibraryKind): Map<string, number> {
    let set = this.sets.get(kind);
    if (!set) {
      set = new Map();
      this.sets.set(kind, set);
    }
    return set;
  }

  /** Returns how many entries were new. */
  save(items: readonly Pick<ParsedUri, 'kind' | 'id'>[], now: number): number {
    let added = 0;
    for (const { kind, id } of items) {
      if (!isLibraryKind(kind)) continue;
      const set = this.set(kind);
      if (!set.has(id)) {
        set.set(id, now);
        added++;
      }
    }
    return added;
  }

  remove(items: readonly Pick<ParsedUri, 'kind' | 'id'>[]): number {
    let removed = 0;
    for (const { kind, id } of items) {
      if (isLibraryKind(kind) && this.sets.get(kind)?.delete(id)) removed++;
    }
    return removed;
  }

  has(kind: UriKind, id: string): boolean {
    return isLibraryKind(kind) && (this.sets.get(kind)?.has(id) ?? false);
  }

  /** Newest first; ties (one request saving several) in the order they were sent. */
  list(kind: LibraryKind): LibraryEntry[] {
    const set = this.sets.get(kind);
    if (!set) return [];
    const entries = [...set].map(([id, addedAt], index) => ({ id, addedAt, index }));
    entries.sort((a, b) => b.addedAt - a.addedAt || a.index - b.index);
    return entries.map(({ id, addedAt }) => ({ id, addedAt }));
  }

  count(kind: LibraryKind): number {
    return this.sets.get(kind)?.size ?? 0;
  }

  uris(kind: LibraryKind): string[] {
    return this.list(kind).map((e) => uriOf(kind, e.id));
  }

  toJSON(): LibraryJson {
    const out: LibraryJson = {};
    for (const [kind, set] of this.sets) {
      if (set.size > 0) out[kind] = [...set].map(([id, addedAt]) => ({ id, added_at: addedAt }));
    }
    return out;
  }

  static fromJSON(json: LibraryJson): Library {
    const library = new Library();
    for (const kind of LIBRARY_KINDS) {
      for (const entry of json[kind] ?? []) library.set(kind).set(entry.id, entry.added_at);
    }
    return library;
  }
}
