// examples/nextjs (App Router + spotauth/fetch, SQLite store): `next build`, then `next start` as a real
// process, walked in Chromium. The build is cached in examples/nextjs/.next, keyed by the example's sources,
// the built spotauth it bundles and the Next.js version; a stale or missing build is rebuilt here.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

const EXAMPLE = join(ROOT, 'examples/nextjs');
const NEXT = join(ROOT, 'node_modules/next/dist/bin/next');
const STAMP = join(EXAMPLE, '.next/spotauth-build.sha256');

function filesUnder(dir: string, skip: Set<string>): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(
      (file) =>
        !relative(dir, file)
          .split('/')
          .some((part) => skip.has(part)),
    )
    .sort();
}

function buildKey(): string {
  const hash = createHash('sha256');
  const nextPackage = JSON.parse(readFileSync(join(ROOT, 'node_modules/next/package.json'), 'utf8'));
  hash.update(`next ${nextPackage.version}\n`);
  const files = [
    ...filesUnder(EXAMPLE, new Set(['.next', 'next-env.d.ts', '.data'])),
    ...filesUnder(join(ROOT, 'dist'), new Set()),
  ];
  for (const file of files) hash.update(`${relative(ROOT, file)}\n`).update(readFileSync(file));
  return hash.digest('hex');
}

async function buildOnce(): Promise<void> {
  const key = buildKey();
  if (existsSync(join(EXAMPLE, '.next/BUILD_ID')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === key)
    return;
  const started = Date.now();
  await promisify(execFile)(process.execPath, [NEXT, 'build', EXAMPLE], {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    maxBuffer: 16 * 1024 * 1024,
  });
  writeFileSync(STAMP, key);
  console.log(`next build: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

describeExample('examples/nextjs (next build, next start)', {
  store: ['sqlite'],
  onDeadGrant: 'login',
  startTimeoutMs: 300_000,
  start: async (env) => {
    await buildOnce();
    return startExample({
      command: process.execPath,
      args: [NEXT, 'start', EXAMPLE, '-H', '127.0.0.1'],
      env: { ...env, NEXT_TELEMETRY_DISABLED: '1' },
      ready: /Ready in/,
    });
  },
});
