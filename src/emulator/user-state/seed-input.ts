import { InvalidInput } from '../errors.js';
import type { EmulatorState } from '../state.js';
import { isLibraryKind } from './library.js';
import { type Device, deviceId } from './player.js';
import { newPlaylist, randomSpotifyId } from './playlists.js';
import type { UserData } from './store.js';
import { parseUri } from './uris.js';

/**
 * POST /_emulator/state: a user's state from the control API's JSON. Each part given replaces that part
 * of the user's default; parts left out stay default. The result becomes the user's seed.
 */

const PRODUCTS = ['premium', 'free', 'open'];
const MAX_ENTRIES = 20_000;

type Json = Record<string, unknown>;

function list(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_ENTRIES) {
    throw new InvalidInput(`${name} must be an array of at most ${MAX_ENTRIES} entries`);
  }
  return value;
}

function object(value: unknown, name: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInput(`${name} must be an object`);
  }
  return value as Json;
}

function time(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new InvalidInput(`${name} must be ms since the epoch or an ISO date`);
  }
  return ms;
}

/** An entry that is either "spotify:…" or {uri, <timeField>}. */
function uriEntry(value: unknown, name: string, timeField: string, fallback: number) {
  const entry = typeof value === 'string' ? { uri: value } : object(value, name);
  const uri = typeof entry['uri'] === 'string' ? parseUri(entry['uri']) : null;
  if (!uri)
    throw new InvalidInput(
      `${name}: ${JSON.stringify(entry['uri'] ?? value).slice(0, 80)} is not a Spotify URI`,
    );
  return { ...uri, at: time(entry[timeField], `${name}.${timeField}`, fallback), entry };
}

function text(value: unknown, name: string, fallback: string, max = 300): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > max) throw new InvalidInput(`${name} must be a string`);
  return value;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidInput(`${name} must be a boolean`);
  return value;
}

export function parseProduct(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !PRODUCTS.includes(value)) {
    throw new InvalidInput(`product must be one of ${PRODUCTS.join(', ')}`);
  }
  return value;
}

/** Checks the whole body first, so a bad part leaves the user untouched; returns the applier. */
export function parseUserSeed(state: EmulatorState, userId: string, body: Json): (data: UserData) => void {
  const now = state.now();
  const steps: ((data: UserData) => void)[] = [];
  const product = parseProduct(body['product']);
  if (product !== undefined) steps.push((data) => (data.product = product));

  if (body['library'] !== undefined) {
    // Listed newest first; without added_at each entry is a second older than the one before.
    const entries = list(body['library'], 'library').map((v, i) => {
      const e = uriEntry(v, `library[${i}]`, 'added_at', now - i * 1000);
      if (!isLibraryKind(e.kind)) throw new InvalidInput(`library[${i}]: ${e.kind} cannot be saved`);
      return e;
    });
    steps.push((data) => {
      const followed = data.library
        .list('playlist')
        .filter((p) => state.userStates.playlist(p.id)?.ownerId === userId);
      for (const kind of [
        'track',
        'album',
        'episode',
        'show',
        'audiobook',
        'artist',
        'user',
        'playlist',
      ] as const) {
        data.library.remove(data.library.list(kind).map((e) => ({ kind, id: e.id })));
      }
      // The user's own playlists stay followed (that is what lists them in /me/playlists).
      for (const p of followed) data.library.save([{ kind: 'playlist', id: p.id }], p.addedAt);
      for (const e of entries) data.library.save([{ kind: e.kind, id: e.id }], e.at);
    });
  }

  if (body['playlists'] !== undefined) {
    const playlists = list(body['playlists'], 'playlists').map((v, i) => {
      const p = object(v, `playlists[${i}]`);
      const generated = p['id'] === undefined;
      const id = generated ? randomSpotifyId() : p['id'];
      if (typeof id !== 'string' || !/^[0-9A-Za-z]{22}$/.test(id)) {
        throw new InvalidInput(`playlists[${i}].id must be 22 base62 characters`);
      }
      // A fresh random id is nobody's; looking it up would bring every known user's default playlists
      // into memory (an unknown id does that), which for a thousand users is most of a seed's cost.
      const existing = generated ? undefined : state.userStates.playlist(id);
      if (existing && existing.ownerId !== userId) {
        throw new InvalidInput(`playlists[${i}].id belongs to ${existing.ownerId}'s playlist`);
      }
      const collaborative = bool(p['collaborative'], `playlists[${i}].collaborative`, false);
      const details = {
        name: text(p['name'], `playlists[${i}].name`, `Playlist ${i + 1}`, 200),
        description: text(p['description'], `playlists[${i}].description`, ''),
        public: bool(p['public'], `playlists[${i}].public`, !collaborative),
        collaborative,
      };
      if (details.public && details.collaborative) {
        throw new InvalidInput(`playlists[${i}]: a collaborative playlist cannot be public`);
      }
      const items = list(p['items'] ?? [], `playlists[${i}].items`).map((item, j) => {
        const e = uriEntry(item, `playlists[${i}].items[${j}]`, 'added_at', now);
        if (e.kind !== 'track' && e.kind !== 'episode') {
          throw new InvalidInput(`playlists[${i}].items[${j}] must be a track or episode`);
        }
        const by = e.entry['added_by'] ?? userId;
        if (typeof by !== 'string')
          throw new InvalidInput(`playlists[${i}].items[${j}].added_by must be a user id`);
        return { uri: e.uri, addedAt: e.at, addedBy: by };
      });
      const followers = list(p['followers'] ?? [], `playlists[${i}].followers`).map((f) => {
        if (typeof f !== 'string' || !state.users.has(f)) {
          throw new InvalidInput(`playlists[${i}].followers must be ids of known users`);
        }
        return f;
      });
      return { playlist: newPlaylist(id, userId, details, items), followers };
    });
    steps.push((data) => {
      for (const old of state.userStates.ownedPlaylists(userId)) {
        data.library.remove([{ kind: 'playlist', id: old.id }]);
        state.userStates.removePlaylist(old.id);
      }
      playlists.forEach(({ playlist, followers }, index) => {
        state.userStates.addPlaylist(playlist);
        data.library.save([{ kind: 'playlist', id: playlist.id }], now - index * 1000);
        for (const follower of followers) {
          if (follower === userId) continue;
          state.userStates.user(follower).library.save([{ kind: 'playlist', id: playlist.id }], now);
        }
      });
    });
  }

  if (body['devices'] !== undefined) {
    let active: string | null = null;
    const devices: Device[] = list(body['devices'], 'devices').map((v, i) => {
      const d = object(v, `devices[${i}]`);
      const name = text(d['name'], `devices[${i}].name`, `Device ${i + 1}`, 100);
      const id = text(d['id'], `devices[${i}].id`, deviceId(userId, name), 100);
      const supportsVolume = bool(d['supports_volume'], `devices[${i}].supports_volume`, true);
      const volume = d['volume_percent'] ?? (supportsVolume ? 50 : null);
      if (
        volume !== null &&
        (!Number.isInteger(volume) || (volume as number) < 0 || (volume as number) > 100)
      ) {
        throw new InvalidInput(`devices[${i}].volume_percent must be 0-100 or null`);
      }
      if (bool(d['is_active'], `devices[${i}].is_active`, false)) active = id;
      return {
        id,
        name,
        type: text(d['type'], `devices[${i}].type`, 'Computer', 40),
        volumePercent: volume as number | null,
        supportsVolume,
        isRestricted: bool(d['is_restricted'], `devices[${i}].is_restricted`, false),
        isPrivateSession: bool(d['is_private_session'], `devices[${i}].is_private_session`, false),
      };
    });
    steps.push((data) => {
      data.player.devices = devices;
      data.player.activeDeviceId = active;
      data.player.stop();
    });
  }

  if (body['recently_played'] !== undefined) {
    const plays = list(body['recently_played'], 'recently_played').map((v, i) => {
      const e = uriEntry(v, `recently_played[${i}]`, 'played_at', now - (i + 1) * 240_000);
      const context = e.entry['context_uri'];
      if (context !== undefined && (typeof context !== 'string' || !parseUri(context))) {
        throw new InvalidInput(`recently_played[${i}].context_uri must be a Spotify URI`);
      }
      return { uri: e.uri, playedAt: e.at, contextUri: (context as string | undefined) ?? null };
    });
    plays.sort((a, b) => b.playedAt - a.playedAt);
    steps.push((data) => {
      data.player.history = plays.slice(0, 50);
    });
  }
  return (data) => {
    for (const step of steps) step(data);
  };
}
