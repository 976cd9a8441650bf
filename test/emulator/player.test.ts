import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALBUMS, type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import { start } from './helpers.js';
import { advanceClock, call, controlCall, type Json, tokenFor } from './state-helpers.js';

let emulator: RunningEmulator;
let alice: string;
beforeAll(async () => {
  // A frozen base clock: only /_emulator/clock moves time, so progress is exact.
  const base = Date.UTC(2026, 11, 1, 12);
  emulator = await start({ now: () => base });
});
afterAll(() => emulator.stop());
beforeEach(async () => {
  await controlCall(emulator, 'POST', 'reset', { clear_seed: true });
  await controlCall(emulator, 'POST', 'config', { player_success: 'no_content', player_reasons: 'observed' });
  alice = tokenFor(emulator, 'alice');
});

const ALBUM = must(ALBUMS[0], 'ALBUMS[0]');
const albumTracks = ALBUM.trackIds.map((id) =>
  must(
    TRACKS.find((t) => t.id === id),
    `track ${id}`,
  ),
);
const uri = (i: number) => `spotify:track:${TRACKS[i]?.id}`;

async function devices(token = alice): Promise<Json[]> {
  return (await call(emulator, 'GET', '/v1/me/player/devices', token)).json.devices;
}

/** Activates alice's first device and plays the album from its first track. */
async function playAlbum(): Promise<Json[]> {
  const list = await devices();
  expect((await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[0].id] })).status).toBe(
    204,
  );
  const played = await call(emulator, 'PUT', '/v1/me/player/play', alice, {
    context_uri: `spotify:album:${ALBUM.id}`,
  });
  expect(played.status).toBe(204);
  return list;
}

async function refusal(method: string, path: string, body?: unknown) {
  const result = await call(emulator, method, path, alice, body);
  return { status: result.status, error: result.json?.error };
}

describe('devices, transfer, play and progress on the simulated clock', () => {
  it('nothing active: GET /me/player → 204, commands → 404 NO_ACTIVE_DEVICE; transfer activates a device', async () => {
    const list = await devices();
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list.every((d) => d.is_active === false)).toBe(true);
    expect(list[0]).toMatchObject({ type: 'Computer', supports_volume: true, is_restricted: false });
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).status).toBe(204);
    expect(await refusal('PUT', '/v1/me/player/play', { uris: [uri(0)] })).toEqual({
      status: 404,
      error: {
        status: 404,
        message: 'Player command failed: No active device found',
        reason: 'NO_ACTIVE_DEVICE',
      },
    });
    const transfer = await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[1].id] });
    expect(transfer.status).toBe(204);
    expect(transfer.text).toBe('');
    expect((await devices()).find((d) => d.is_active)?.id).toBe(list[1].id);
    // Active but nothing loaded: still 204.
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).status).toBe(204);
    expect(
      (await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: ['nope'] })).json.error,
    ).toEqual({
      status: 404,
      message: 'Device not found',
    });
    expect(
      (await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[0].id, list[1].id] })).status,
    ).toBe(400);
    expect((await call(emulator, 'PUT', '/v1/me/player', alice, {})).json.error.message).toBe(
      'Missing required field: device_ids',
    );
  });

  it('plays an album; progress advances with the clock, tracks end into the next and into recently-played', async () => {
    const [first] = await playAlbum();
    const state = (await call(emulator, 'GET', '/v1/me/player', alice)).json;
    expect(state).toMatchObject({
      device: { id: first.id, is_active: true },
      is_playing: true,
      progress_ms: 0,
      repeat_state: 'off',
      shuffle_state: false,
      currently_playing_type: 'track',
      context: { type: 'album', uri: `spotify:album:${ALBUM.id}` },
      item: { id: albumTracks[0]?.id },
    });
    await advanceClock(emulator, 10);
    expect((await call(emulator, 'GET', '/v1/me/player/currently-playing', alice)).json.progress_ms).toBe(
      10_000,
    );
    // Past the end of the first track by 5 s.
    await advanceClock(emulator, (must(albumTracks[0], 'first').durationMs - 10_000) / 1000 + 5);
    const now = (await call(emulator, 'GET', '/v1/me/player/currently-playing', alice)).json;
    expect(now).toMatchObject({ item: { id: albumTracks[1]?.id }, progress_ms: 5000, is_playing: true });
    const recent = (await call(emulator, 'GET', '/v1/me/player/recently-played?limit=2', alice)).json;
    expect(recent.items[0].track.id).toBe(albumTracks[0]?.id);
    expect(recent.items[0].context.uri).toBe(`spotify:album:${ALBUM.id}`);
    expect(recent).not.toHaveProperty('total');
    // The whole album runs out: paused, the last track kept; all three in the history.
    await advanceClock(emulator, 1200);
    const ended = (await call(emulator, 'GET', '/v1/me/player', alice)).json;
    expect(ended).toMatchObject({ is_playing: false, progress_ms: 0, item: { id: albumTracks[2]?.id } });
    const history = (await call(emulator, 'GET', '/v1/me/player/recently-played?limit=3', alice)).json.items;
    expect(history.map((h: Json) => h.track.id)).toEqual([...albumTracks].reverse().map((t) => t.id));
  });

  it('pause, resume, seek, next, previous, repeat, shuffle, volume, queue', async () => {
    await playAlbum();
    expect((await call(emulator, 'PUT', '/v1/me/player/pause', alice)).status).toBe(204);
    await advanceClock(emulator, 30);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      is_playing: false,
      progress_ms: 0,
    });
    expect((await call(emulator, 'PUT', '/v1/me/player/play', alice)).status).toBe(204);
    expect((await call(emulator, 'PUT', '/v1/me/player/seek?position_ms=60000', alice)).status).toBe(204);
    await advanceClock(emulator, 1);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json.progress_ms).toBe(61_000);
    expect((await call(emulator, 'POST', '/v1/me/player/next', alice)).status).toBe(204);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      item: { id: albumTracks[1]?.id },
      progress_ms: 0,
    });
    // Skipped after 61 s of listening: counted as played.
    expect(
      (await call(emulator, 'GET', '/v1/me/player/recently-played?limit=1', alice)).json.items[0].track.id,
    ).toBe(albumTracks[0]?.id);
    expect((await call(emulator, 'POST', '/v1/me/player/previous', alice)).status).toBe(204);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json.item.id).toBe(albumTracks[0]?.id);
    // Seeking past the end starts the next track.
    await call(
      emulator,
      'PUT',
      `/v1/me/player/seek?position_ms=${must(albumTracks[0], 'first').durationMs + 2000}`,
      alice,
    );
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      item: { id: albumTracks[1]?.id },
      progress_ms: 2000,
    });
    expect((await call(emulator, 'PUT', '/v1/me/player/repeat?state=track', alice)).status).toBe(204);
    await advanceClock(emulator, must(albumTracks[1], 'second').durationMs / 1000);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      repeat_state: 'track',
      item: { id: albumTracks[1]?.id },
      progress_ms: 2000,
    });
    expect((await call(emulator, 'PUT', '/v1/me/player/repeat?state=sometimes', alice)).status).toBe(400);
    expect((await call(emulator, 'PUT', '/v1/me/player/shuffle?state=true', alice)).status).toBe(204);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      shuffle_state: true,
      item: { id: albumTracks[1]?.id },
    });
    expect((await call(emulator, 'PUT', '/v1/me/player/volume?volume_percent=20', alice)).status).toBe(204);
    expect((await devices()).find((d) => d.is_active).volume_percent).toBe(20);
    expect((await call(emulator, 'PUT', '/v1/me/player/volume?volume_percent=101', alice)).status).toBe(400);
    // The queue plays before the rest of the context.
    expect((await call(emulator, 'POST', `/v1/me/player/queue?uri=${uri(50)}`, alice)).status).toBe(204);
    const queue = (await call(emulator, 'GET', '/v1/me/player/queue', alice)).json;
    expect(queue.currently_playing.id).toBe(albumTracks[1]?.id);
    expect(queue.queue[0].id).toBe(TRACKS[50]?.id);
    expect(queue.queue.length).toBeGreaterThanOrEqual(2);
    await call(emulator, 'PUT', '/v1/me/player/repeat?state=off', alice);
    await call(emulator, 'POST', '/v1/me/player/next', alice);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json.item.id).toBe(TRACKS[50]?.id);
    expect((await call(emulator, 'POST', '/v1/me/player/queue?uri=spotify:album:x', alice)).status).toBe(400);
  });

  it('play `uris` with an offset by uri and a position; transfer keeps playback and play:true resumes', async () => {
    const list = await devices();
    await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[0].id] });
    const played = await call(emulator, 'PUT', `/v1/me/player/play?device_id=${list[1].id}`, alice, {
      uris: [uri(1), uri(2), uri(3)],
      offset: { uri: uri(2) },
      position_ms: 1500,
    });
    expect(played.status).toBe(204);
    const state = (await call(emulator, 'GET', '/v1/me/player', alice)).json;
    expect(state).toMatchObject({
      device: { id: list[1].id },
      item: { id: TRACKS[2]?.id },
      progress_ms: 1500,
      context: null,
    });
    await call(emulator, 'PUT', '/v1/me/player/pause', alice);
    await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[0].id] });
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json).toMatchObject({
      device: { id: list[0].id },
      is_playing: false,
      item: { id: TRACKS[2]?.id },
    });
    await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[1].id], play: true });
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json.is_playing).toBe(true);
  });
});

describe('refusals and their reasons', () => {
  const RESTRICTED = { status: 403, message: 'Player command failed: Restriction violated' };

  it('Restriction violated with reason UNKNOWN as captured, or the specific reason when switched', async () => {
    const list = await playAlbum();
    await call(emulator, 'PUT', '/v1/me/player/pause', alice);
    expect(await refusal('PUT', '/v1/me/player/pause')).toEqual({
      status: 403,
      error: { ...RESTRICTED, reason: 'UNKNOWN' },
    });
    await controlCall(emulator, 'POST', 'config', { player_reasons: 'specific' });
    const expectReason = async (method: string, path: string, reason: string, body?: unknown) => {
      expect(await refusal(method, path, body), `${method} ${path}`).toEqual({
        status: 403,
        error: { ...RESTRICTED, reason },
      });
    };
    await expectReason('PUT', '/v1/me/player/pause', 'ALREADY_PAUSED');
    await call(emulator, 'PUT', '/v1/me/player/play', alice);
    await expectReason('PUT', '/v1/me/player/play', 'NOT_PAUSED');
    await expectReason('POST', '/v1/me/player/previous', 'NO_PREV_TRACK');
    await call(emulator, 'POST', '/v1/me/player/next', alice);
    await call(emulator, 'POST', '/v1/me/player/next', alice);
    await expectReason('POST', '/v1/me/player/next', 'NO_NEXT_TRACK');
    // With repeat on the context, next wraps around instead.
    await call(emulator, 'PUT', '/v1/me/player/repeat?state=context', alice);
    expect((await call(emulator, 'POST', '/v1/me/player/next', alice)).status).toBe(204);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).json.item.id).toBe(albumTracks[0]?.id);
    await expectReason('PUT', '/v1/me/player/play', 'NO_SPECIFIC_TRACK', {
      context_uri: `spotify:album:${ALBUM.id}`,
      offset: { uri: uri(100) },
    });
    await expectReason('PUT', '/v1/me/player/play', 'NO_SPECIFIC_TRACK', {
      context_uri: `spotify:album:${ALBUM.id}`,
      offset: { position: 3 },
    });
    // The phone does not let the Web API set its volume.
    const phone = list.find((d) => d.supports_volume === false);
    expect(await refusal('PUT', `/v1/me/player/volume?volume_percent=5&device_id=${phone.id}`)).toEqual({
      status: 403,
      error: {
        status: 403,
        message: 'Player command failed: Cannot control device volume',
        reason: 'VOLUME_CONTROL_DISALLOW',
      },
    });
    // Nothing loaded on the device: NOT_PLAYING_TRACK.
    await controlCall(emulator, 'POST', 'player', { user_id: 'alice', track_id: null });
    await expectReason('PUT', '/v1/me/player/seek?position_ms=0', 'NOT_PLAYING_TRACK');
    await expectReason('PUT', '/v1/me/player/play', 'NOT_PLAYING_TRACK');
  });

  it('a restricted device: DEVICE_NOT_CONTROLLABLE; a free user: PREMIUM_REQUIRED on every command', async () => {
    await controlCall(emulator, 'POST', 'config', { player_reasons: 'specific' });
    const seeded = await controlCall(emulator, 'POST', 'state', {
      user_id: 'alice',
      devices: [{ id: 'locked-tv', name: 'Locked TV', type: 'TV', is_restricted: true, is_active: true }],
    });
    expect(seeded.status).toBe(200);
    expect(await refusal('PUT', '/v1/me/player/play', { uris: [uri(0)] })).toEqual({
      status: 403,
      error: { ...RESTRICTED, reason: 'DEVICE_NOT_CONTROLLABLE' },
    });
    const bob = tokenFor(emulator, 'bob');
    const bobs = await devices(bob);
    expect(bobs.length).toBeGreaterThan(0);
    const premium = {
      status: 403,
      message: 'Player command failed: Premium required',
      reason: 'PREMIUM_REQUIRED',
    };
    for (const [method, path, body] of [
      ['PUT', '/v1/me/player', { device_ids: [bobs[0].id] }],
      ['PUT', '/v1/me/player/play', { uris: [uri(0)] }],
      ['PUT', '/v1/me/player/pause', undefined],
      ['POST', '/v1/me/player/next', undefined],
      ['POST', '/v1/me/player/previous', undefined],
      ['PUT', '/v1/me/player/seek?position_ms=1', undefined],
      ['PUT', '/v1/me/player/repeat?state=off', undefined],
      ['PUT', '/v1/me/player/shuffle?state=false', undefined],
      ['PUT', '/v1/me/player/volume?volume_percent=1', undefined],
      ['POST', `/v1/me/player/queue?uri=${uri(0)}`, undefined],
    ] as const) {
      const result = await call(emulator, method, path, bob, body);
      expect(result.status, path).toBe(403);
      expect(result.json.error, path).toEqual(premium);
    }
    // Reading works for free users.
    expect((await call(emulator, 'GET', '/v1/me/player', bob)).status).toBe(204);
    // Seeding product premium lifts it.
    await controlCall(emulator, 'POST', 'state', { user_id: 'bob', product: 'premium' });
    expect((await call(emulator, 'PUT', '/v1/me/player', bob, { device_ids: [bobs[0].id] })).status).toBe(
      204,
    );
  });

  it('opaque success switch: play and pause answer 200 with a non-JSON token, others stay 204', async () => {
    await controlCall(emulator, 'POST', 'config', { player_success: 'opaque' });
    expect((await controlCall(emulator, 'GET', 'config')).json).toMatchObject({ player_success: 'opaque' });
    const list = await devices();
    expect((await call(emulator, 'PUT', '/v1/me/player', alice, { device_ids: [list[0].id] })).status).toBe(
      204,
    );
    const played = await call(emulator, 'PUT', '/v1/me/player/play', alice, { uris: [uri(0), uri(1)] });
    expect(played.status).toBe(200);
    expect(played.text).toMatch(/^[A-Za-z0-9_-]{20,40}$/);
    expect(played.json).toBeUndefined();
    const paused = await call(emulator, 'PUT', '/v1/me/player/pause', alice);
    expect(paused.status).toBe(200);
    expect(paused.text).not.toBe(played.text);
    expect((await call(emulator, 'POST', '/v1/me/player/next', alice)).status).toBe(204);
    expect((await controlCall(emulator, 'POST', 'config', { player_success: 'sometimes' })).status).toBe(400);
  });
});
