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

export class UserStates {
  private users = new Map<string, UserData>();
  private playlists = new Map<string, Playlist>();
  private seed: StatesJson = { users: {}, playlists: [] };
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
      if (!this.playlists.has(playlist.id)) this.playlists.set(playlist.id, playlist);
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
  }

  removePlaylist(id: string): void {
    this.playlists.delete(id);
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
    return [...this.playlists.values()].filter((p) => p.ownerId === userId);
  }

  /** Forgets a user's state and owned playlists; they come back as the default. */
  forget(userId: string): void {
    this.users.delete(userId);
    for (const [id, playlist] of this.playlists) if (playlist.ownerId === userId) this.playlists.delete(id);
  }

  /** Replaces a user's state with `make(default)` and keeps the result as that user's seed. */
  seedUser(userId: string, make: (data: UserData) => void): UserData {
    this.forget(userId);
    const data = this.user(userId);
    make(data);
    const snapshot = this.toJSON();
    const own = snapshot.users[userId];
    if (own) this.seed.users[userId] = own;
    this.seed.playlists = [
      ...this.seed.playlists.filter((p) => p.owner_id !== userId),
      ...snapshot.playlists.filter((p) => p.owner_id === userId),
    ];
    this.changed();
    return data;
  }

  reset(): void {
    this.load(this.seed);
    this.changed();
  }

  clearSeed(): void {
    this.seed = { users: {}, playlists: [] };
  }

  seedJson(): StatesJson {
    return this.seed;
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

  userJson(userId: string): UserStateJson & { playlists: PlaylistJson[] } {
    const data = this.user(userId);
    return {
      ...(data.product !== undefined ? { product: data.product } : {}),
      library: data.library.toJSON(),
      player: data.player.toJSON(),
      playlists: this.ownedPlaylists(userId).map(playlistToJson),
    };
  }

  /** Live state from `json` (deep-copied, so the seed stays untouched). */
  load(json: StatesJson): void {
    const copy = structuredClone(json);
    this.users = new Map();
    this.playlists = new Map(copy.playlists.map((p) => [p.id, playlistFromJson(p)]));
    for (const [userId, user] of Object.entries(copy.users)) {
      this.users.set(userId, {
        library: Library.fromJSON(user.library),
        player: Player.fromJSON(user.player, this.defaults.durationOf),
        ...(user.product !== undefined ? { product: user.product } : {}),
      });
    }
  }

  /** Restores live state and seed (from the state file). */
  restore(state: StatesJson, seed: StatesJson): void {
    this.seed = structuredClone(seed);
    this.load(state);
  }
}
