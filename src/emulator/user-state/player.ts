import { createHash, randomInt } from 'node:crypto';

/**
 * One user's playback: devices, what plays where, and the history of finished plays. Time is never read
 * here: every call takes the emulator's `now`, and progress is computed from it (`settle`), so moving the
 * simulated clock plays tracks to their end, on to the next, and into recently-played.
 */

/** The `reason` values of Spotify's former PlayerErrorReasons enum (WEB-API-2026 §5). */
export const PLAYER_REASONS = [
  'NO_PREV_TRACK',
  'NO_NEXT_TRACK',
  'NO_SPECIFIC_TRACK',
  'ALREADY_PAUSED',
  'NOT_PAUSED',
  'NOT_PLAYING_LOCALLY',
  'NOT_PLAYING_TRACK',
  'NOT_PLAYING_CONTEXT',
  'ENDLESS_CONTEXT',
  'CONTEXT_DISALLOW',
  'ALREADY_PLAYING',
  'RATE_LIMITED',
  'REMOTE_CONTROL_DISALLOW',
  'DEVICE_NOT_CONTROLLABLE',
  'VOLUME_CONTROL_DISALLOW',
  'NO_ACTIVE_DEVICE',
  'PREMIUM_REQUIRED',
  'UNKNOWN',
] as const;
export type PlayerReason = (typeof PLAYER_REASONS)[number];

/** A command the player refuses; the HTTP layer picks Spotify's status and message for the reason. */
export class PlayerRefusal extends Error {
  override name = 'PlayerRefusal';
  constructor(readonly reason: PlayerReason | 'DEVICE_NOT_FOUND') {
    super(reason);
  }
}

export type RepeatState = 'off' | 'track' | 'context';

export interface Device {
  id: string;
  name: string;
  type: string;
  volumePercent: number | null;
  supportsVolume: boolean;
  /** "No Web API commands will be accepted by this device" (OAS DeviceObject). */
  isRestricted: boolean;
  isPrivateSession: boolean;
}

export interface Playback {
  deviceId: string;
  contextUri: string | null;
  /** The context's items (or the `uris` played), in context order. */
  items: string[];
  /** Play order: indexes into `items` (a permutation when shuffling). */
  order: number[];
  /** Where in `order` the context stands. */
  cursor: number;
  /** What plays now: a context item, or one taken from the queue. */
  current: string;
  fromQueue: boolean;
  /** Position at `anchorAt` (ms). */
  positionMs: number;
  anchorAt: number;
  isPlaying: boolean;
  shuffle: boolean;
  repeat: RepeatState;
  queue: string[];
}

export interface PlayRecord {
  uri: string;
  playedAt: number;
  contextUri: string | null;
}

export interface PlayerJson {
  devices: {
    id: string;
    name: string;
    type: string;
    volume_percent: number | null;
    supports_volume: boolean;
    is_restricted: boolean;
    is_private_session: boolean;
  }[];
  active_device_id: string | null;
  playback: Playback | null;
  /** Newest first. */
  recently_played: { uri: string; played_at: number; context_uri: string | null }[];
}

/** Spotify keeps the last 50 plays for recently-played. */
export const HISTORY_LIMIT = 50;
/** A skipped track counts as played after this much listening [UNCONF: Spotify's rule is not published]. */
export const COUNTS_AS_PLAYED_MS = 30_000;
const MAX_SETTLE_STEPS = 500;

export type DurationOf = (uri: string) => number;

export function deviceId(userId: string, name: string): string {
  return createHash('sha1').update(`device:${userId}:${name}`).digest('hex');
}

export function defaultDevices(userId: string): Device[] {
  const device = (name: string, type: string, volume: number | null): Device => ({
    id: deviceId(userId, name),
    name,
    type,
    volumePercent: volume,
    supportsVolume: volume !== null,
    isRestricted: false,
    isPrivateSession: false,
  });
  // The phone does not let the Web API set its volume, as Spotify's iOS app reports.
  return [
    device('Emulator Web Player', 'Computer', 65),
    device('Kitchen Speaker', 'Speaker', 40),
    device('Emulator Phone', 'Smartphone', null),
  ];
}

export interface PlayRequest {
  deviceId?: string;
  contextUri?: string | null;
  /** The context's items, or the `uris` to play; absent = resume. */
  items?: string[];
  /** Index into `items` to start at. */
  offset?: number;
  positionMs?: number;
}

export class Player {
  devices: Device[];
  activeDeviceId: string | null = null;
  playback: Playback | null = null;
  history: PlayRecord[] = [];

  constructor(
    devices: Device[],
    private readonly durationOf: DurationOf,
  ) {
    this.devices = devices;
  }

  device(id: string): Device {
    const device = this.devices.find((d) => d.id === id);
    if (!device) throw new PlayerRefusal('DEVICE_NOT_FOUND');
    return device;
  }

  activeDevice(): Device | null {
    return this.devices.find((d) => d.id === this.activeDeviceId) ?? null;
  }

  /** Moves playback forward to `now`: finished tracks go to the history, the next one starts. */
  settle(now: number): void {
    const p = this.playback;
    if (!p?.isPlaying) return;
    let position = p.positionMs + (now - p.anchorAt);
    let steps = 0;
    for (;;) {
      const duration = this.durationOf(p.current);
      if (position < duration) break;
      if (++steps > MAX_SETTLE_STEPS) {
        // Hours of clock in one jump on a repeating context: skip whole loops, the history keeps 50 anyway.
        const loop = p.repeat === 'track' ? duration : p.items.reduce((s, u) => s + this.durationOf(u), 0);
        if (loop > 0 && p.repeat !== 'off' && p.queue.length === 0) position %= loop;
        steps = 0;
        if (position < duration) break;
      }
      const endedAt = now - (position - duration);
      this.record(p.current, endedAt, p.contextUri);
      position -= duration;
      if (!this.advance(p, true)) {
        p.isPlaying = false;
        position = 0;
        break;
      }
    }
    p.positionMs = position;
    p.anchorAt = now;
  }

  progress(now: number): number | null {
    this.settle(now);
    return this.playback ? this.playback.positionMs : null;
  }

  private record(uri: string, playedAt: number, contextUri: string | null): void {
    this.history.unshift({ uri, playedAt, contextUri });
    if (this.history.length > HISTORY_LIMIT) this.history.length = HISTORY_LIMIT;
  }

  /** Leaving the current track early (skip, new play): it counts if it played long enough. */
  private leave(p: Playback, now: number): void {
    if (p.positionMs >= COUNTS_AS_PLAYED_MS) this.record(p.current, now, p.contextUri);
  }

  /** Next item by queue, repeat and order; false at the end (repeat off). */
  private advance(p: Playback, natural: boolean): boolean {
    if (natural && p.repeat === 'track') return true;
    const queued = p.queue.shift();
    if (queued !== undefined) {
      p.current = queued;
      p.fromQueue = true;
      return true;
    }
    let cursor = p.cursor + 1;
    if (cursor >= p.order.length) {
      if (p.repeat === 'off') return false;
      cursor = 0;
    }
    p.cursor = cursor;
    p.current = p.items[p.order[cursor] ?? 0] ?? p.current;
    p.fromQueue = false;
    return true;
  }

  /** The controllable active playback target, or the refusal Spotify gives. */
  private target(now: number, deviceId?: string): Playback | null {
    if (deviceId !== undefined) this.device(deviceId);
    const device = this.activeDevice();
    if (!device) throw new PlayerRefusal('NO_ACTIVE_DEVICE');
    if (device.isRestricted) throw new PlayerRefusal('DEVICE_NOT_CONTROLLABLE');
    this.settle(now);
    return this.playback;
  }

  private loaded(now: number, deviceId?: string): Playback {
    const p = this.target(now, deviceId);
    if (!p) throw new PlayerRefusal('NOT_PLAYING_TRACK');
    return p;
  }

  transfer(deviceId: string, play: boolean | undefined, now: number): void {
    const device = this.device(deviceId);
    if (device.isRestricted) throw new PlayerRefusal('DEVICE_NOT_CONTROLLABLE');
    this.settle(now);
    this.activeDeviceId = device.id;
    const p = this.playback;
    if (p) {
      p.deviceId = device.id;
      // "false or not provided: keep the current playback state" (OAS).
      if (play === true) p.isPlaying = true;
    }
  }

  play(request: PlayRequest, now: number): void {
    if (request.deviceId !== undefined) {
      const device = this.device(request.deviceId);
      if (device.isRestricted) throw new PlayerRefusal('DEVICE_NOT_CONTROLLABLE');
      this.settle(now);
      this.activeDeviceId = device.id;
    }
    const current = this.target(now);
    if (request.items === undefined) {
      if (!current) throw new PlayerRefusal('NOT_PLAYING_TRACK');
      if (current.isPlaying) throw new PlayerRefusal('NOT_PAUSED');
      if (request.positionMs !== undefined) current.positionMs = request.positionMs;
      current.isPlaying = true;
      current.anchorAt = now;
      return;
    }
    const items = request.items;
    const offset = request.offset ?? 0;
    const first = items[offset];
    if (first === undefined) throw new PlayerRefusal('NO_SPECIFIC_TRACK');
    if (current) this.leave(current, now);
    const shuffle = current?.shuffle ?? false;
    const order = items.map((_, i) => i);
    const playback: Playback = {
      deviceId: this.activeDeviceId ?? '',
      contextUri: request.contextUri ?? null,
      items,
      order,
      cursor: offset,
      current: first,
      fromQueue: false,
      positionMs: request.positionMs ?? 0,
      anchorAt: now,
      isPlaying: true,
      shuffle,
      repeat: current?.repeat ?? 'off',
      // The queue outlives a new context, as in Spotify's clients.
      queue: current?.queue ?? [],
    };
    if (shuffle) reshuffle(playback);
    this.playback = playback;
    // A position past the end starts the next track (OAS, seek); settle does exactly that.
    this.settle(now);
  }

  pause(now: number, deviceId?: string): void {
    const p = this.target(now, deviceId);
    if (!p?.isPlaying) throw new PlayerRefusal('ALREADY_PAUSED');
    p.isPlaying = false;
    p.anchorAt = now;
  }

  seek(positionMs: number, now: number, deviceId?: string): void {
    const p = this.loaded(now, deviceId);
    // "If the position is greater than the length of the track, the player will start playing the next song."
    p.positionMs = positionMs;
    p.anchorAt = now;
    if (positionMs >= this.durationOf(p.current)) {
      const playing = p.isPlaying;
      p.isPlaying = true;
      this.settle(now);
      if (this.playback === p && p.isPlaying) p.isPlaying = playing;
    }
  }

  next(now: number, deviceId?: string): void {
    const p = this.loaded(now, deviceId);
    const hasNext = p.queue.length > 0 || p.cursor + 1 < p.order.length || p.repeat !== 'off';
    if (!hasNext) throw new PlayerRefusal('NO_NEXT_TRACK');
    this.leave(p, now);
    this.advance(p, false);
    p.positionMs = 0;
    p.anchorAt = now;
  }

  previous(now: number, deviceId?: string): void {
    const p = this.loaded(now, deviceId);
    let cursor = p.fromQueue ? p.cursor : p.cursor - 1;
    if (cursor < 0) {
      if (p.repeat === 'off') throw new PlayerRefusal('NO_PREV_TRACK');
      cursor = p.order.length - 1;
    }
    this.leave(p, now);
    p.cursor = cursor;
    p.current = p.items[p.order[cursor] ?? 0] ?? p.current;
    p.fromQueue = false;
    p.positionMs = 0;
    p.anchorAt = now;
  }

  setRepeat(state: RepeatState, now: number, deviceId?: string): void {
    this.loaded(now, deviceId).repeat = state;
  }

  setShuffle(on: boolean, now: number, deviceId?: string): void {
    const p = this.loaded(now, deviceId);
    if (p.shuffle === on) return;
    p.shuffle = on;
    if (on) reshuffle(p);
    else {
      const index = p.order[p.cursor] ?? 0;
      p.order = p.items.map((_, i) => i);
      p.cursor = index;
    }
  }

  setVolume(percent: number, now: number, deviceId?: string): void {
    this.target(now, deviceId);
    const device = deviceId !== undefined ? this.device(deviceId) : this.activeDevice();
    if (!device) throw new PlayerRefusal('NO_ACTIVE_DEVICE');
    if (!device.supportsVolume) throw new PlayerRefusal('VOLUME_CONTROL_DISALLOW');
    device.volumePercent = percent;
  }

  enqueue(uri: string, now: number, deviceId?: string): void {
    this.loaded(now, deviceId).queue.push(uri);
  }

  /** What plays after the current item: the queue, then the rest of the context (at most `limit`). */
  upcoming(now: number, limit: number): string[] {
    this.settle(now);
    const p = this.playback;
    if (!p) return [];
    const rest = p.order.slice(p.cursor + 1).map((i) => p.items[i] ?? '');
    if (p.repeat === 'context') rest.push(...p.order.slice(0, p.cursor + 1).map((i) => p.items[i] ?? ''));
    return [...p.queue, ...rest].slice(0, limit);
  }

  /** Drops the playback (control API "stop"). */
  stop(): void {
    this.playback = null;
  }

  toJSON(): PlayerJson {
    return {
      devices: this.devices.map((d) => ({
        id: d.id,
        name: d.name,
        type: d.type,
        volume_percent: d.volumePercent,
        supports_volume: d.supportsVolume,
        is_restricted: d.isRestricted,
        is_private_session: d.isPrivateSession,
      })),
      active_device_id: this.activeDeviceId,
      playback: this.playback ? { ...this.playback, items: [...this.playback.items] } : null,
      recently_played: this.history.map((h) => ({
        uri: h.uri,
        played_at: h.playedAt,
        context_uri: h.contextUri,
      })),
    };
  }

  static fromJSON(json: PlayerJson, durationOf: DurationOf): Player {
    const player = new Player(
      json.devices.map((d) => ({
        id: d.id,
        name: d.name,
        type: d.type,
        volumePercent: d.volume_percent,
        supportsVolume: d.supports_volume,
        isRestricted: d.is_restricted,
        isPrivateSession: d.is_private_session,
      })),
      durationOf,
    );
    player.activeDeviceId = json.active_device_id;
    player.playback = json.playback ? { ...json.playback } : null;
    player.history = json.recently_played.map((h) => ({
      uri: h.uri,
      playedAt: h.played_at,
      contextUri: h.context_uri,
    }));
    return player;
  }
}

/** Keeps the current item first and shuffles what follows it (random: Spotify's order is not ours to predict; the CSPRNG, as everywhere in src/). */
function reshuffle(p: Playback): void {
  const current = p.order[p.cursor] ?? 0;
  const others = p.items.map((_, i) => i).filter((i) => i !== current);
  for (let i = others.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [others[i], others[j]] = [others[j] as number, others[i] as number];
  }
  p.order = [current, ...others];
  p.cursor = 0;
}
