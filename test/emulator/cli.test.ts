import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { must } from '../support/must.js';

/**
 * Spawns the real CLI. It is built with tsup's API (as `npx tsup` would) into a private directory inside
 * node_modules/.cache, so bare imports still resolve and parallel test files never race on dist/.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'node_modules/.cache/spotauth-emulator-cli-test');
const MAIN = join(OUT, 'cli/main.js');

beforeAll(async () => {
  await build({
    config: false,
    entry: { 'cli/main': join(ROOT, 'src/cli/main.ts') },
    outDir: OUT,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    splitting: true,
    clean: true,
    dts: false,
    silent: true,
    // Every package stays external: only our own code is bundled.
    external: [/^[^./]/],
  });
}, 120_000);

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<Started | { code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, 'emulator', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    must(child.stdout, 'child.stdout').on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^Spotify emulator listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match) done({ child, url: must(match[1], 'match[1]'), output: () => stdout });
    });
    must(child.stderr, 'child.stderr').on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => done({ code, stderr }));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(OUT, { recursive: true, force: true });
});

describe('spotauth emulator (real process)', () => {
  it('prints the listening line, serves the control API, and stops cleanly on SIGTERM', async () => {
    const started = await run([
      '--port',
      '0',
      '--refresh-mode',
      'rotate',
      '--access-token-ttl',
      '120',
      '--unauthorized-messages',
      'legacy',
      '--owner-without-premium',
    ]);
    if (!('child' in started)) throw new Error(`CLI exited ${started.code}: ${started.stderr}`);
    children.push(started.child);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const users = (await (await fetch(`${started.url}/_emulator/users`)).json()) as { id: string }[];
    expect(users.map((u) => u.id)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    const config = (await (await fetch(`${started.url}/_emulator/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      refresh_mode: 'rotate',
      access_token_ttl: 120,
      unauthorized_messages: 'legacy',
    });
    const apps = (await (await fetch(`${started.url}/_emulator/apps`)).json()) as Record<string, unknown>[];
    expect(apps.find((a) => a['client_id'] === 'spotauth-sandbox-client')).toMatchObject({
      owner_premium: false,
    });
    expect(started.output()).toContain('spotauth-sandbox-client');
    expect(started.output()).toContain('owner without Premium');
    started.child.kill('SIGTERM');
    expect(await exited(started.child)).toBe(0);
  });

  it('registers an app from flags and users from a config file; env auto-approve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotauth-emu-'));
    const file = join(dir, 'emulator.json');
    writeFileSync(file, JSON.stringify({ users: [{ id: 'erin', displayName: 'Erin' }], apps: [] }));
    try {
      const started = await run(
        [
          '--port',
          '0',
          '--client-id',
          'flag-app',
          '--client-secret',
          'flag-secret',
          '--redirect-uri',
          'https://a.example/cb',
          '--config',
          file,
        ],
        { SPOTAUTH_EMULATOR_AUTO_APPROVE: 'erin' },
      );
      if (!('child' in started)) throw new Error(`CLI exited ${started.code}: ${started.stderr}`);
      children.push(started.child);
      const apps = (await (await fetch(`${started.url}/_emulator/apps`)).json()) as { client_id: string }[];
      expect(apps.map((a) => a.client_id)).toContain('flag-app');
      const response = await fetch(
        `${started.url}/authorize?client_id=flag-app&response_type=code&redirect_uri=${encodeURIComponent('https://a.example/cb')}`,
        { redirect: 'manual' },
      );
      expect(response.status).toBe(302);
      started.child.kill('SIGINT');
      expect(await exited(started.child)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad options exit 2 (usage), a busy port exits 1, each with one clear sentence', async () => {
    const badPort = await run(['--port', 'abc']);
    expect(badPort).toMatchObject({ code: 2 });
    expect((badPort as { stderr: string }).stderr).toMatch(/--port must be a whole number/);
    const badMode = await run(['--refresh-mode', 'sometimes', '--port', '0']);
    expect((badMode as { stderr: string }).stderr).toMatch(/--refresh-mode must be "keep" or "rotate"/);

    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    try {
      const busy = await run(['--port', String(port)]);
      expect(busy).toMatchObject({ code: 1 });
      expect((busy as { stderr: string }).stderr).toMatch(
        new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
    } finally {
      blocker.close();
    }
  });
});
