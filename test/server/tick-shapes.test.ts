/**
 * keepTickShapesAlive (src/auth/tick-shapes.ts): the standalone server keeps process.nextTick's
 * tick-object literal monomorphic through full garbage collections. Checked in real processes through V8's
 * own feedback (--allow-natives-syntax): a bare Node process, put through the same collections, shows the
 * pathology the anchor exists for.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(ROOT, 'test/server/fixtures/tick-feedback.cjs');
const dataDir = mkdtempSync(join(tmpdir(), 'spotauth-tick-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The feedback states of the tick literal's property definitions, in order (async id, trigger id, callback, args). */
async function tickFeedback(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  // The child's stdout is a file, not a pipe: %DebugPrint writes through C's stdio, and on the
  // non-blocking pipe Node makes of fd 1 such a write can be cut short when the reader lags.
  const outFile = join(dataDir, `stdout-${randomUUID()}.txt`);
  const out = openSync(outFile, 'w');
  const child = spawn(process.execPath, ['--expose-gc', '--allow-natives-syntax', '-r', FIXTURE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const stdout = readFileSync(outFile, 'utf8');
  if (code !== 0 || !stdout.includes('TICK-FEEDBACK'))
    throw new Error(`exit ${code}: ${stderr.slice(0, 500)}`);
  return [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1] ?? '');
}

describe('keepTickShapesAlive', () => {
  it('so does a host app that creates a handler (here spotauth/fetch)', async () => {
    const app = `
      import { SpotifyAuth, createStore } from ${JSON.stringify(join(ROOT, 'dist/index.js'))};
      import { spotauthFetch } from ${JSON.stringify(join(ROOT, 'dist/adapters/fetch.js'))};
      const auth = new SpotifyAuth({ clientId: 'app', clientSecret: 'secret', redirectUri: 'http://127.0.0.1:3000/auth/spotify/callback' });
      globalThis.handler = spotauthFetch({ auth, store: await createStore('memory:'), basePath: '/auth/spotify' });
      console.log('app ready');
      setInterval(() => {}, 1000);`;
    const feedback = await tickFeedback(['--input-type=module', '-e', app], { TICK_READY: 'app ready' });
    expect(feedback).toEqual(['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
  });

  it('the standalone server keeps nextTick monomorphic through full collections (a bare process does not)', async () => {
    const [bare, server] = await Promise.all([
      tickFeedback(['-e', 'setInterval(() => {}, 1000)']),
      tickFeedback([join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0'], {
        TICK_READY: 'Open http',
        SPOTIFY_CLIENT_ID: '',
        SPOTAUTH_DATA_DIR: dataDir,
        SPOTAUTH_EMULATOR_PORT: '0',
        LOG_LEVEL: 'warn',
      }),
    ]);
    expect(server).toEqual(['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
    // The control: without the anchor the same rounds leave the literal megamorphic. A Node whose V8 no
    // longer drops these maps would show monomorphic here, and the anchor would be harmless but unneeded.
    expect(bare).toHaveLength(4);
    if (!bare.includes('MEGAMORPHIC')) {
      console.warn(
        `tick-shapes: this Node (${process.version}) no longer shows the pathology: ${bare.join(', ')}`,
      );
    } else {
      expect(bare.slice(1)).toEqual(['MEGAMORPHIC', 'MEGAMORPHIC', 'MEGAMORPHIC']);
    }
  });
});
