import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALBUMS, ARTISTS, type RunningEmulator, TRACKS } from '../../src/emulator/index.js';
import { EMULATOR_SCOPES } from '../../src/emulator/scopes.js';
import { must } from '../support/must.js';
import { control, start } from './helpers.js';
import {
  type Json,
  type Mode,
  resolveParameter,
  responseValidator,
  SPEC,
  schemaValidator,
  specOperations,
  type WalkOperation,
} from './spec-schema.js';

/**
 * Walks every operation of spec/spotify-web-api.openapi.yml (read from the YAML, not a hand-kept list),
 * once per app mode, with a valid request built from the operation's own parameters, and fails if one is
 * unserved or answers outside its schema. In development mode the operations the spec marks deprecated
 * must answer with the bodies captured from Spotify (WEB-API-2026.md summary table) instead.
 */

const OPERATIONS = specOperations();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Removed in 2024 (FACTS §6): 404, or 403 without a message for audio features and analysis. */
const GONE_404 = new Set([
  'get-an-artists-related-artists',
  'get-recommendations',
  'get-recommendation-genres',
  'get-featured-playlists',
  'get-a-categories-playlists',
]);
const GONE_403_NO_MESSAGE = new Set([
  'get-several-audio-features',
  'get-audio-features',
  'get-audio-analysis',
]);
const FORBIDDEN = '{"error": {"status": 403, "message": "Forbidden" }}';

let emulator: RunningEmulator;
const tokens: Record<Mode, string> = { development: '', extended: '' };
let playlistId = '';
const SHOW = { id: '' };
const EPISODE = { id: '' };
const BOOK = { id: '' };
const CHAPTER = { id: '' };

beforeAll(async () => {
  emulator = await start();
  const scopes = Object.keys(EMULATOR_SCOPES);
  await control(emulator, 'apps', { client_id: 'walk-dev', redirect_uris: ['http://127.0.0.1/cb'] });
  await control(emulator, 'apps', {
    client_id: 'walk-ext',
    redirect_uris: ['http://127.0.0.1/cb'],
    mode: 'extended',
  });
  tokens.development = emulator.state.issueAccessToken('walk-dev', 'alice', scopes, null);
  tokens.extended = emulator.state.issueAccessToken('walk-ext', 'alice', scopes, null);
  const found = (await call('GET', '/v1/search?q=e&type=show,episode,audiobook', 'extended')).json;
  SHOW.id = found.shows.items[0].id;
  EPISODE.id = found.episodes.items[0].id;
  BOOK.id = found.audiobooks.items[0].id;
  const book = (await call('GET', `/v1/audiobooks/${BOOK.id}`, 'extended')).json;
  CHAPTER.id = book.chapters.items[0].id;
  // Something playing, so that GET /me/player and currently-playing answer 200 (the spec omits the 204 of
  // the latter, FACTS §7).
  await control(emulator, 'player', { user_id: 'alice', track_id: must(TRACKS[3], 'TRACKS[3]').id });
  playlistId = (await call('GET', '/v1/me/playlists?limit=1', 'extended')).json.items[0].id;
});
afterAll(() => emulator.stop());

async function call(method: string, path: string, mode: Mode, body?: { type: string; data: string }) {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[mode]}` };
  if (body) headers['content-type'] = body.type;
  const response = await fetch(`${emulator.url}${path}`, { method, headers, body: body?.data });
  const text = await response.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, type: response.headers.get('content-type') };
}

/** A catalogue id of the kind the path is about. */
function idFor(path: string): string {
  if (/^\/(me\/)?albums/.test(path)) return must(ALBUMS[0], 'ALBUMS[0]').id;
  if (/^\/artists|^\/me\/following/.test(path)) return must(ARTISTS[0], 'ARTISTS[0]').id;
  if (/^\/(me\/)?shows/.test(path)) return SHOW.id;
  if (/^\/(me\/)?episodes/.test(path)) return EPISODE.id;
  if (/^\/(me\/)?audiobooks/.test(path)) return BOOK.id;
  if (/^\/chapters/.test(path)) return CHAPTER.id;
  return must(TRACKS[0], 'TRACKS[0]').id;
}

const TRACK_URI = () => `spotify:track:${must(TRACKS[1], 'TRACKS[1]').id}`;

function queryValue(op: WalkOperation, p: Json): string {
  const schema = p.schema ?? {};
  const values = schema.enum ?? schema.items?.enum;
  if (p.name === 'type' && op.operationId === 'search') return values.join(',');
  if (values) return String(values[0]);
  switch (p.name) {
    case 'ids':
      return op.path.startsWith('/playlists/') ? 'alice,bob' : idFor(op.path);
    case 'q':
      return 'e';
    case 'uris':
      return `${TRACK_URI()},spotify:album:${must(ALBUMS[1], 'ALBUMS[1]').id}`;
    case 'uri':
      return TRACK_URI();
    case 'state':
      return schema.type === 'boolean' ? 'true' : 'context';
  }
  if (schema.type === 'integer') return String(schema.minimum ?? (p.name === 'volume_percent' ? 50 : 0));
  if (schema.type === 'boolean') return 'true';
  throw new Error(`the walk does not know a value for required ${p.name} of ${op.operationId}`);
}

function pathFor(op: WalkOperation): string {
  const params = (op.op.parameters ?? []).map(resolveParameter);
  let path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name === 'playlist_id') return playlistId;
    if (name === 'user_id') return 'alice';
    if (name === 'category_id') return 'pop';
    return idFor(op.path);
  });
  const query = new URLSearchParams();
  for (const p of params) if (p.in === 'query' && p.required) query.set(p.name, queryValue(op, p));
  if (op.operationId === 'get-recommendations') query.set('seed_tracks', must(TRACKS[0], 'TRACKS[0]').id);
  const qs = query.toString();
  if (qs) path += `?${qs}`;
  return `/v1${path}`;
}

/** Bodies for the operations that take one, from the spec's examples where it has them. */
function bodyFor(op: WalkOperation): { type: string; data: string } | undefined {
  const content = op.op.requestBody?.content;
  if (!content) return undefined;
  const type = Object.keys(content)[0] as string;
  const schema = content[type].schema;
  if (type === 'image/jpeg') return { type, data: schema.example };
  const example: Json = { ...(schema.example ?? {}) };
  for (const [name, prop] of Object.entries(schema.properties ?? {}) as [string, Json][]) {
    if (prop.example !== undefined && example[name] === undefined) example[name] = prop.example;
  }
  const ids = [idFor(op.path.replace('/me/', '/'))];
  const overrides: Record<string, Json> = {
    'add-tracks-to-playlist': { uris: [TRACK_URI()] },
    'add-items-to-playlist': { uris: [TRACK_URI()] },
    'reorder-or-replace-playlists-tracks': { range_start: 0, insert_before: 1 },
    'reorder-or-replace-playlists-items': { range_start: 0, insert_before: 1 },
    'remove-tracks-playlist': { tracks: [{ uri: TRACK_URI() }] },
    'remove-items-playlist': { items: [{ uri: TRACK_URI() }] },
    'start-a-users-playback': { uris: [TRACK_URI()] },
  };
  const body = overrides[op.operationId] ?? example;
  for (const name of schema.required ?? []) {
    if (body[name] === undefined && name === 'ids') body[name] = ids;
  }
  if (op.operationId === 'transfer-a-users-playback' && deviceId) body.device_ids = [deviceId];
  return { type: 'application/json', data: JSON.stringify(body) };
}

let deviceId: string | undefined;

function successStatuses(op: WalkOperation): number[] {
  return Object.keys(op.op.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300);
}

async function walk(op: WalkOperation, mode: Mode): Promise<void> {
  const path = pathFor(op);
  const label = `${mode}: ${op.method} ${path}`;
  const result = await call(op.method, path, mode, bodyFor(op));
  if (mode === 'development' && op.deprecated) {
    if (GONE_404.has(op.operationId)) {
      expect(result.status, label).toBe(404);
      expect(schemaValidator('ErrorObject')(result.json?.error), label).toBe(true);
    } else if (GONE_403_NO_MESSAGE.has(op.operationId)) {
      expect([result.status, result.json], label).toEqual([403, { error: { status: 403 } }]);
    } else {
      expect([result.status, result.text], label).toEqual([403, FORBIDDEN]);
    }
    return;
  }
  expect(successStatuses(op), `${label} → ${result.status} ${result.text.slice(0, 300)}`).toContain(
    result.status,
  );
  if (result.status === 204) {
    expect(result.text, label).toBe('');
    return;
  }
  const validate = responseValidator(op.method, op.path, result.status, mode);
  if (!validate) return;
  expect(result.type, label).toBe('application/json; charset=utf-8');
  const ok = validate(result.json);
  expect(ok, `${label}: ${JSON.stringify(validate.errors?.slice(0, 4))}`).toBe(true);
}

describe('the spec walk', () => {
  it('reads all 97 operations from the YAML, and the emulator’s generated table is current', () => {
    expect(OPERATIONS).toHaveLength(97);
    const generated = readFileSync(`${ROOT}src/emulator/web-api/operations.ts`, 'utf8');
    const fresh = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { operationsSource } from ${JSON.stringify(`${ROOT}scripts/emulator-operations.mjs`)}; process.stdout.write(operationsSource(${JSON.stringify(ROOT)}).source);`,
      ],
      { encoding: 'utf8' },
    );
    expect(generated, 'run npm run generate:emulator').toBe(fresh);
    expect(SPEC.openapi).toMatch(/^3\./);
  });

  for (const mode of ['development', 'extended'] as const) {
    it(`every operation, ${mode} mode`, async () => {
      const devices = await call('GET', '/v1/me/player/devices', mode);
      deviceId = devices.status === 200 ? devices.json?.devices?.[0]?.id : undefined;
      for (const op of OPERATIONS) await walk(op, mode);
    });
  }
});
