import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { CLIENT_ID, start } from './helpers.js';
import { call, controlCall, type Json, tokenFor } from './state-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'spotauth-emu-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const uri = (i: number) => `spotify:track:${TRACKS[i]?.id}`;

async function contains(emulator: RunningEmulator, token: string, uris: string[]): Promise<boolean[]> {
  return (await call(emulator, 'GET', `/v1/me/library/contains?uris=${uris.join(',')}`, token)).json;
}

describe('--state FILE', () => {
  it('keeps library, playlists, devices, product and seed across a restart; reset returns to the seed', async () => {
    const file = join(dir, 'restart.json');
    let emulator = await start({ stateFile: file });
    // The seed: a saved track, one playlist, one device, bob on Premium.
    const seeded = await controlCall(emulator, 'POST', 'state', {
      user_id: 'alice',
      library: [uri(0)],
      playlists: [{ name: 'Seeded', items: [uri(1), uri(2)] }],
      devices: [{ name: 'Seed speaker', type: 'Speaker', volume_percent: 30, is_active: true }],
    });
    expect(seeded.status).toBe(200);
    expect(seeded.json.playlists).toHaveLength(1);
    await controlCall(emulator, 'POST', 'state', { user_id: 'bob', product: 'premium' });
    await controlCall(emulator, 'POST', 'users', { id: 'dave', display_name: 'Dave' });
    // Changes after the seed, through the Web API.
    let alice = tokenFor(emulator, 'alice');
    await call(emulator, 'PUT', `/v1/me/library?uris=${uri(3)}`, alice);
    const created = (await call(emulator, 'POST', '/v1/me/playlists', alice, { name: 'After seed' })).json;
    await call(emulator, 'POST', `/v1/playlists/${created.id}/items`, alice, { uris: [uri(4)] });
    await call(emulator, 'PUT', '/v1/me/player/play', alice, { uris: [uri(5)] });
    await emulator.stop();

    const saved = JSON.parse(readFileSync(file, 'utf8')) as Json;
    expect(saved).toMatchObject({ format: 'spotauth-emulator-state', version: 1 });
    // Written by rename: no temporary file left beside it.
    expect(readdirSync(dir).filter((f) => f.startsWith('restart.json'))).toEqual(['restart.json']);

    emulator = await start({ stateFile: file });
    alice = emulator.state.issueAccessToken(
      CLIENT_ID,
      'alice',
      ['user-library-read', 'playlist-read-private', 'user-read-playback-state'],
      null,
    );
    expect(await contains(emulator, alice, [uri(0), uri(3)])).toEqual([true, true]);
    const lists = (await call(emulator, 'GET', '/v1/me/playlists', alice)).json.items;
    expect(lists.map((p: Json) => p.name)).toEqual(['After seed', 'Seeded']);
    const items = (await call(emulator, 'GET', `/v1/playlists/${created.id}/items`, alice)).json.items;
    expect(items.map((i: Json) => i.item.uri)).toEqual([uri(4)]);
    const player = (await call(emulator, 'GET', '/v1/me/player', alice)).json;
    expect(player).toMatchObject({ device: { name: 'Seed speaker' }, item: { uri: uri(5) } });
    expect(emulator.state.users.get('bob')?.product).toBe('premium');
    expect(emulator.state.users.get('dave')?.displayName).toBe('Dave');

    // Reset after the restart: back to the seed, without the later changes.
    expect((await controlCall(emulator, 'POST', 'reset')).status).toBe(200);
    expect(await contains(emulator, alice, [uri(0), uri(3)])).toEqual([true, false]);
    const afterReset = (await call(emulator, 'GET', '/v1/me/playlists', alice)).json.items;
    expect(afterReset.map((p: Json) => p.name)).toEqual(['Seeded']);
    expect((await call(emulator, 'GET', '/v1/me/player', alice)).status).toBe(204);
    const state = (await controlCall(emulator, 'GET', 'state?user_id=alice')).json;
    expect(state.player.devices.map((d: Json) => d.name)).toEqual(['Seed speaker']);
    expect(state.library.track.map((t: Json) => t.id)).toEqual([TRACKS[0]?.id]);
    await emulator.stop();
  });

  it('a file that is not a state file stops the start with a clear error, and is left alone', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"half": ');
    await expect(start({ stateFile: file })).rejects.toThrow(/not valid JSON/);
    writeFileSync(file, '{"format":"other"}');
    await expect(start({ stateFile: file })).rejects.toThrow(/not a spotauth emulator state file/);
    expect(readFileSync(file, 'utf8')).toBe('{"format":"other"}');
  });

  it('saves shortly after a change, without waiting for stop', async () => {
    const file = join(dir, 'debounce.json');
    const emulator = await start({ stateFile: file });
    await call(emulator, 'PUT', `/v1/me/library?uris=${uri(7)}`, tokenFor(emulator, 'carol'));
    // Polls the file (the save is debounced); no wall-clock threshold is asserted.
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Json;
    expect(saved.state.users.carol.library.track[0].id).toBe(TRACKS[7]?.id);
    await emulator.stop();
  });
});

describe('spotauth emulator --state, across a real process restart', () => {
  const MAIN = resolve(import.meta.dirname, '../../dist/cli/main.js');
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  function run(file: string): Promise<{ child: ChildProcess; url: string }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [MAIN, 'emulator', '--port', '0', '--state', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /^Spotify emulator listening on (http:\/\/\S+)$/m.exec(stdout);
        if (match?.[1]) done({ child, url: match[1] });
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('exit', (code) => fail(new Error(`emulator exited ${code}: ${stderr}`)));
    });
  }

  async function seedAndRead(url: string, body?: unknown) {
    const response = await fetch(`${url}/_emulator/state${body ? '' : '?user_id=alice'}`, {
      method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await response.json()) as Json;
  }

  it('state seeded in one process is there in the next (SIGTERM flushes it)', async () => {
    const file = join(dir, 'cli.json');
    const first = await run(file);
    const seeded = await seedAndRead(first.url, {
      user_id: 'alice',
      library: [uri(9)],
      playlists: [{ name: 'From the CLI', items: [uri(10)] }],
    });
    expect(seeded.playlists[0].name).toBe('From the CLI');
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    const second = await run(file);
    const read = await seedAndRead(second.url);
    expect(read.library.track.map((t: Json) => t.id)).toEqual([TRACKS[9]?.id]);
    expect(read.playlists.map((p: Json) => p.name)).toEqual(['From the CLI']);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
