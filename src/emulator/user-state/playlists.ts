import { createHash, randomBytes } from 'node:crypto';
import { StateRefusal } from './errors.js';
import { PlaylistItems } from './playlist-items.js';

export type { PlaylistItem } from './playlist-items.js';
export { PlaylistItems } from './playlist-items.js';

/**
 * Playlists, shared by all users (one owns a playlist, others follow or collaborate on it), with
 * `snapshot_id` versions. A write that names an older snapshot is applied against that version, as the
 * spec says of DELETE ("validate that the specified items exist and in the specified positions and make
 * the changes, even if more recent changes have been made"; spotify/web-api#193 shows the same for
 * reorder): positions are read in the old version, and items added since are left alone.
 */

export interface PlaylistCover {
  /** Changes with every upload, so the served URL changes too. */
  id: string;
  /** The JPEG, base64 as uploaded. */
  jpegBase64: string;
}

export interface Playlist {
  id: string;
  ownerId: string;
  name: string;
  description: string;
  public: boolean;
  collaborative: boolean;
  version: number;
  /** Never changed in place (playlist-items.ts): every write gives the playlist a new list. */
  items: PlaylistItems;
  cover: PlaylistCover | null;
  nextKey: number;
  /** Item keys of recent earlier versions, newest last; not persisted (a restart forgets them). */
  history: { version: number; items: PlaylistItems }[];
}

export interface PlaylistDetails {
  name?: string;
  description?: string;
  public?: boolean;
  collaborative?: boolean;
}

export interface PlaylistJson {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  public: boolean;
  collaborative: boolean;
  version: number;
  /** [uri, added_at, added_by] */
  items: [string, number, string][];
  cover: { id: string; jpeg_base64: string } | null;
}

/** Spotify caps playlists at 10,000 items. */
export const MAX_PLAYLIST_ITEMS = 10_000;
const HISTORY_VERSIONS = 32;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function randomSpotifyId(): string {
  const bytes = randomBytes(22);
  let out = '';
  for (const byte of bytes) out += BASE62[byte % 62];
  return out;
}

function snapshotTag(id: string, version: number): string {
  return createHash('sha256').update(`${id}:${version}`).digest('hex').slice(0, 32);
}

/** The last snapshot id of each playlist object: every listing of a playlist shows it, and it is a hash. */
const lastSnapshot = new WeakMap<object, { id: string; version: number; snapshot: string }>();

/** Opaque to clients; like Spotify's older ids, base64 of "version,hex". */
export function snapshotId(playlist: Pick<Playlist, 'id' | 'version'>): string {
  const known = lastSnapshot.get(playlist);
  if (known && known.version === playlist.version && known.id === playlist.id) return known.snapshot;
  const snapshot = Buffer.from(`${playlist.version},${snapshotTag(playlist.id, playlist.version)}`).toString(
    'base64',
  );
  lastSnapshot.set(playlist, { id: playlist.id, version: playlist.version, snapshot });
  return snapshot;
}

/** The version a snapshot id names, or null when it is not one of this playlist's. */
export function snapshotVersion(playlist: Pick<Playlist, 'id'>, snapshot: string): number | null {
  if (!/^[A-Za-z0-9+/]{1,200}={0,2}$/.test(snapshot)) return null;
  const match = /^(\d{1,9}),([0-9a-f]{32})$/.exec(Buffer.from(snapshot, 'base64').toString('latin1'));
  if (!match) return null;
  const version = Number(match[1]);
  return match[2] === snapshotTag(playlist.id, version) ? version : null;
}

export function newPlaylist(
  id: string,
  ownerId: string,
  details: Required<PlaylistDetails>,
  items: { uri: string; addedAt: number; addedBy: string }[] = [],
): Playlist {
  return {
    id,
    ownerId,
    ...details,
    version: 1,
    items: PlaylistItems.of(items, 0),
    cover: null,
    nextKey: items.length,
    history: [],
  };
}

function bump(playlist: Playlist): void {
  // The list is never changed in place, so it is the old version as it was.
  playlist.history.push({ version: playlist.version, items: playlist.items });
  if (playlist.history.length > HISTORY_VERSIONS) playlist.history.shift();
  playlist.version++;
}

/**
 * The item keys of the version a write was made against. Unknown to this playlist → refused; one of its
 * own but older than the kept history (or from before a restart) → the current version [UNCONF: Spotify's
 * answer is not captured].
 */
function baseKeys(playlist: Playlist, snapshot: string | undefined): readonly number[] {
  const current = () => playlist.items.keys();
  if (snapshot === undefined) return current();
  const version = snapshotVersion(playlist, snapshot);
  if (version === null || version > playlist.version) {
    throw new StateRefusal('invalid_snapshot', 'Invalid snapshot id');
  }
  if (version === playlist.version) return current();
  return playlist.history.find((h) => h.version === version)?.items.keys() ?? current();
}

export function changeDetails(playlist: Playlist, details: PlaylistDetails): void {
  const next = { ...playlist, ...details };
  if (next.collaborative && next.public) {
    throw new StateRefusal('collaborative_public', 'Collaborative playlists cannot be public');
  }
  Object.assign(playlist, details);
  bump(playlist);
}

export function addItems(
  playlist: Playlist,
  uris: readonly string[],
  position: number | undefined,
  addedBy: string,
  now: number,
): void {
  const at = position ?? playlist.items.length;
  if (!Number.isInteger(at) || at < 0 || at > playlist.items.length) {
    throw new StateRefusal('bad_position', 'Index out of bounds');
  }
  if (playlist.items.length + uris.length > MAX_PLAYLIST_ITEMS) {
    throw new StateRefusal('too_many_items', `A playlist holds at most ${MAX_PLAYLIST_ITEMS} items`);
  }
  const added = PlaylistItems.of(
    uris.map((uri) => ({ uri, addedAt: now, addedBy })),
    playlist.nextKey,
  );
  playlist.nextKey += uris.length;
  bump(playlist);
  playlist.items = playlist.items.insert(at, added);
}

export function replaceItems(
  playlist: Playlist,
  uris: readonly string[],
  addedBy: string,
  now: number,
): void {
  if (uris.length > MAX_PLAYLIST_ITEMS) {
    throw new StateRefusal('too_many_items', `A playlist holds at most ${MAX_PLAYLIST_ITEMS} items`);
  }
  bump(playlist);
  playlist.items = PlaylistItems.of(
    uris.map((uri) => ({ uri, addedAt: now, addedBy })),
    playlist.nextKey,
  );
  playlist.nextKey += uris.length;
}

export interface Reorder {
  rangeStart: number;
  insertBefore: number;
  rangeLength: number;
  snapshotId?: string;
}

export function reorderItems(playlist: Playlist, order: Reorder): void {
  const base = baseKeys(playlist, order.snapshotId);
  const { rangeStart, insertBefore, rangeLength } = order;
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (!whole(rangeStart) || rangeStart >= Math.max(base.length, 1) || (base.length === 0 && rangeStart > 0)) {
    throw new StateRefusal('bad_range', 'Invalid range_start');
  }
  if (!whole(rangeLength) || rangeLength < 1 || rangeStart + rangeLength > Math.max(base.length, 1)) {
    throw new StateRefusal('bad_range', 'Invalid range_length');
  }
  if (!whole(insertBefore) || insertBefore > base.length) {
    throw new StateRefusal('bad_range', 'Invalid insert_before');
  }
  const moving = new Set(base.slice(rangeStart, rangeStart + rangeLength));
  // The anchor is the first item at or after insert_before (in the base version) that is not moving and
  // still exists now; none → the end.
  const items = playlist.items;
  const present = new Set(items.keys());
  const anchor = base.slice(insertBefore).find((k) => !moving.has(k) && present.has(k));
  const moved = items.positionsWhere((k) => moving.has(k));
  const rest = items.positionsWhere((k) => !moving.has(k));
  const at = anchor === undefined ? rest.length : rest.findIndex((i) => items.keyAt(i) === anchor);
  bump(playlist);
  rest.splice(at, 0, ...moved);
  playlist.items = items.pick(rest);
}

export interface Removal {
  uri: string;
  /** Positions in the base version; absent = every occurrence there. */
  positions?: number[];
}

export function removeItems(playlist: Playlist, removals: readonly Removal[], snapshot?: string): void {
  const base = baseKeys(playlist, snapshot);
  const items = playlist.items;
  const byKey = new Map(items.keys().map((key, i) => [key, i]));
  // URIs of base items that no longer exist are not known here; only what is still present can go.
  const uriAt = (key: number | undefined) => {
    const at = key === undefined ? undefined : byKey.get(key);
    return at === undefined ? undefined : items.uriAt(at);
  };
  const doomed = new Set<number>();
  for (const removal of removals) {
    if (removal.positions === undefined) {
      for (const key of base) if (uriAt(key) === removal.uri) doomed.add(key);
      continue;
    }
    for (const position of removal.positions) {
      const key = base[position];
      if (!Number.isInteger(position) || key === undefined) {
        throw new StateRefusal('bad_position', 'Could not remove tracks, please check parameters.');
      }
      // Removed since the base version: nothing left to remove.
      if (!byKey.has(key)) continue;
      if (uriAt(key) !== removal.uri) {
        throw new StateRefusal('bad_position', 'Could not remove tracks, please check parameters.');
      }
      doomed.add(key);
    }
  }
  bump(playlist);
  playlist.items = items.pick(items.positionsWhere((k) => !doomed.has(k)));
}

export function setCover(playlist: Playlist, jpegBase64: string): PlaylistCover {
  playlist.cover = { id: randomSpotifyId(), jpegBase64 };
  bump(playlist);
  return playlist.cover;
}

export function playlistToJson(playlist: Playlist): PlaylistJson {
  return {
    id: playlist.id,
    owner_id: playlist.ownerId,
    name: playlist.name,
    description: playlist.description,
    public: playlist.public,
    collaborative: playlist.collaborative,
    version: playlist.version,
    items: Array.from({ length: playlist.items.length }, (_, i) => [
      playlist.items.uriAt(i),
      playlist.items.addedAtOf(i),
      playlist.items.addedByAt(i),
    ]),
    cover: playlist.cover ? { id: playlist.cover.id, jpeg_base64: playlist.cover.jpegBase64 } : null,
  };
}

export function playlistFromJson(json: PlaylistJson): Playlist {
  const playlist = newPlaylist(
    json.id,
    json.owner_id,
    {
      name: json.name,
      description: json.description,
      public: json.public,
      collaborative: json.collaborative,
    },
    json.items.map(([uri, addedAt, addedBy]) => ({ uri, addedAt, addedBy })),
  );
  playlist.version = json.version;
  playlist.cover = json.cover ? { id: json.cover.id, jpegBase64: json.cover.jpeg_base64 } : null;
  return playlist;
}
