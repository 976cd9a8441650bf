import { Library, type LibraryJson } from './library.js';
import { type Device, type DurationOf, Player, type PlayerJson, type PlayRecord } from './player.js';
import { type Playlist, type PlaylistJson, playlistFromJson, playlistToJson } from './playlists.js';

/**
 * Everything the Web API lets a user change, for every user: library, player and playlists (shared, since
 * others follow and collaborate on them). A user appears with a deterministic default (the `defaults`
 * hooks) the first time anything of theirs is touched; the seed is what `reset()` returns to.
 */

export interface UserData {
  library: Library;
  player: Player;
  /** Set when seeded through the control API; overrides the profile's product. */
  product?: string;
}

export interface UserStateJson {
  product?: string;
  library: LibraryJson;
  player: PlayerJson;
}

export interface StatesJson {
  users: Record<string, UserStateJson>;
  playlists: PlaylistJson[];
}

export interface UserDefaults {
  durationOf: DurationOf;
  devices(userId: string): Device[];
  /** Playlists the user owns (and follows) to begin with. */
  playlists(userId: string): Playlist[];
  history(userId: string): PlayRecord[];
}

/** Added times for default follows: fixed (not the clock) so a restart regenerates the same lists. */
const DEFAULT_FOLLOWED_AT = Date.UTC(2025, 5, 1);

/**
 * What reset() returns to. Playlists are kept as they were seeded, grouped by owner in seeding order (the
 * order the state file lists them in); their item lists are shared with the live playlists, which replace
 * rather than change them, so a seed costs no copy of its items.
 */
interface Seed {
  users: Record<string, UserStateJson>;
  playlists: Map<string, Playlist[]>;
}

function emptySeed(): Seed {
  return { users: {}, playlists: new Map() };
}

/** A copy that shares only what is never changed in place (the item list). */
function copyPlaylist(playlist: Playlist): Playlist {
  return { ...playlist, cover: playlist.cover ? { ...playlist.cover } : null, history: [] };
}

export class UserStates {
  private users = new Map<string, UserData>();
  private playlists = new Map<string, Playlist>();
  /** Owner → ids of their playlists, in the order `playlists` holds them. */
  private owned = new Map<string, Set<string>>();
  private seed: Seed = emptySeed();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly defaults: UserDefaults,
    /** Known user ids right now (lazy defaults are made for these only). */
    private readonly userIds: () => Iterable<string>,
  ) {}

  /** Called after every change (the state file's debounced save listens). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of this.listeners) listener();
  }

  user(userId: string): UserData {
    let data = this.users.get(userId);
    if (!data) {
      data = this.createDefault(userId);
      this.users.set(userId, data);
    }
    return data;
  }

  private createDefault(userId: string): UserData {
    const library = new Library();
    const owned = this.defaults.playlists(userId);
    owned.forEach((playlist, index) => {
      if (!this.playlists.has(playlist.id)) this.addPlaylist(playlist);
      library.save([{ kind: 'playlist', id: playlist.id }], DEFAULT_FOLLOWED_AT - index * 86_400_000);
    });
    const player = new Player(this.defaults.devices(userId), this.defaults.durationOf);
    player.history = this.defaults.history(userId);
    return { library, player };
  }

  /**
   * A playlist by id. Default playlists exist before their owner is first touched (clients hard-code the
   * ids they saw earlier), so an unknown id first brings every known user's defaults in.
   */
  playlist(id: string): Playlist | undefined {
    const found = this.playlists.get(id);
    if (found) return found;
    for (const userId of this.userIds()) {
      if (!this.users.has(userId)) this.user(userId);
    }
    return this.playlists.get(id);
  }

  addPlaylist(playlist: Playlist): void {
    this.playlists.set(playlist.id, playlist);
    let ids = this.owned.get(playlist.ownerId);
    if (!ids) {
      ids = new Set();
      this.owned.set(playlist.ownerId, ids);
    }
    ids.add(playlist.id);
  }

  removePlaylist(id: string): void {
    const playlist = this.playlists.get(id);
    if (!playlist) return;
    this.playlists.delete(id);
    this.owned.get(playlist.ownerId)?.delete(id);
  }

  /** Seeded products, to put back on the profiles after a reset or restart. */
  products(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [userId, data] of this.users) if (data.product !== undefined) out.set(userId, data.product);
    return out;
  }

  /** Users who follow the playlist (the owner's own follow excluded, as Spotify counts followers). */
  followers(playlist: Playlist): string[] {
    const out: string[] = [];
    for (const [userId, data] of this.users) {
      if (userId !== playlist.ownerId && data.library.has('playlist', playlist.id)) out.push(userId);
    }
    return out;
  }

  /**
   * Owner, or a follower of a collaborative playlist: Spotify's collaborators are the people who joined
   * it, which for the emulator means following it [UNCONF: invitations are not modelled].
   */
  canEdit(playlist: Playlist, userId: string): boolean {
    if (playlist.ownerId === userId) return true;
    return playlist.collaborative && this.user(userId).library.has('playlist', playlist.id);
  }

  /** The playlists a user follows (their own included), newest follow first, that still exist. */
  followedPlaylists(userId: string): Playlist[] {
    const out: Playlist[] = [];
    for (const entry of this.user(userId).library.list('playlist')) {
      const playlist = this.playlists.get(entry.id);
      if (playlist) out.push(playlist);
    }
    return out;
  }

  ownedPlaylists(userId: string): Playlist[] {
    this.user(userId);
    const out: Playlist[] = [];
    for (const id of this.owned.get(userId) ?? []) {
      const playlist = this.playlists.get(id);
      if (playlist) out.push(playlist);
    }
    return out;
  }

  /** Forgets a user's state and owned playlists; they come back as the default. */
  forget(userId: string): void {
    this.users.delete(userId);
    for (const id of this.owned.get(userId) ?? []) this.playlists.delete(id);
    this.owned.delete(userId);
  }

  /** Replaces a user's state with `make(default)` and keeps the result as that user's seed. */
  seedUser(userId: string, make: (data: UserData) => void): UserData {
    this.forget(userId);
    const data = this.user(userId);
    make(data);
    // Only this user's part is copied: seeding many users stays linear.
    this.seed.users[userId] = structuredClone(this.ownJson(userId));
    // Re-seeding a user moves their playlists to the end, as the state file has always listed them.
    this.seed.playlists.delete(userId);
    this.seed.playlists.set(userId, this.ownedPlaylists(userId).map(copyPlaylist));
    this.changed();
    return data;
  }

  reset(): void {
    this.replaceAll([...this.seed.playlists.values()].flat().map(copyPlaylist), this.seed.users);
    this.changed();
  }

  clearSeed(): void {
    this.seed = emptySeed();
  }

  seedJson(): StatesJson {
    const playlists: PlaylistJson[] = [];
    for (const list of this.seed.playlists.values()) for (const p of list) playlists.push(playlistToJson(p));
    return { users: this.seed.users, playlists };
  }

  /** Only users touched so far; the others are their default, regenerated identically. */
  toJSON(): StatesJson {
    const users: Record<string, UserStateJson> = {};
    for (const [userId, data] of this.users) {
      users[userId] = {
        ...(data.product !== undefined ? { product: data.product } : {}),
        library: data.library.toJSON(),
        player: data.player.toJSON(),
      };
    }
    return { users, playlists: [...this.playlists.values()].map(playlistToJson) };
  }

  private ownJson(userId: string): UserStateJson {
    const data = this.user(userId);
    return {
      ...(data.product !== undefined ? { product: data.product } : {}),
      library: data.library.toJSON(),
      player: data.player.toJSON(),
    };
  }

  userJson(userId: string): UserStateJson & { playlists: PlaylistJson[] } {
    return { ...this.ownJson(userId), playlists: this.ownedPlaylists(userId).map(playlistToJson) };
  }

  /** Live state from `json` (deep-copied, so the seed stays untouched). */
  load(json: StatesJson): void {
    this.replaceAll(json.playlists.map(playlistFromJson), json.users);
  }

  /** Live state made of these playlists and users (deep-copied, so a seed stays untouched). */
  private replaceAll(playlists: readonly Playlist[], users: Record<string, UserStateJson>): void {
    this.playlists = new Map();
    this.owned = new Map();
    for (const playlist of playlists) this.addPlaylist(playlist);
    this.users = new Map();
    for (const [userId, user] of Object.entries(structuredClone(users))) {
      this.users.set(userId, {
        library: Library.fromJSON(user.library),
        player: Player.fromJSON(user.player, this.defaults.durationOf),
        ...(user.product !== undefined ? { product: user.product } : {}),
      });
    }
  }

  /** Restores live state and seed (from the state file). */
  restore(state: StatesJson, seed: StatesJson): void {
    this.seed = { users: structuredClone(seed.users), playlists: new Map() };
    for (const json of seed.playlists) {
      const list = this.seed.playlists.get(json.owner_id) ?? [];
      list.push(playlistFromJson(json));
      this.seed.playlists.set(json.owner_id, list);
    }
    this.load(state);
  }
}
