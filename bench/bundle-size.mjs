#!/usr/bin/env node
// Bundle sizes, esbuild-minified and gzipped (level 9), of spotauth/browser next to the official
// @spotify/web-api-ts-sdk, each bundled the way an app would bundle it:
//   - spotauth/browser, everything: the whole prebuilt file (what a page without a bundler loads);
//   - spotauth/browser, an app: BrowserAuth only (login, tokens across tabs, the Web API fetch), tree-shaken;
//   - + typed client: the same app also using browserApi (openapi-fetch over the spec);
//   - the official SDK: `SpotifyApi` (its auth, cache and endpoint classes come with it; nothing shakes off).
// Also which source files weigh most in the app bundle. Used by browser-refresh.bench.mjs; runnable alone.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BROWSER = `${ROOT}dist-browser/index.js`;

async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;
  const heaviest = Object.entries(inputs)
    .map(([file, { bytesInOutput }]) => ({
      file: file.replace(/^.*node_modules\//, ''),
      bytes: bytesInOutput,
    }))
    .sort((a, b) => b.bytes - a.bytes);
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, heaviest };
}

export async function bundleSizes() {
  // The app cases import from src, as a bundler of the package would see the modules (tree-shaking works
  // per module; the prebuilt file is one module).
  const entry = `${ROOT}src/browser/index.ts`;
  const [everything, app, typed, sdk] = await Promise.all([
    measure(`export * from ${JSON.stringify(BROWSER)};`),
    measure(`import { BrowserAuth } from ${JSON.stringify(entry)}; window.x = BrowserAuth;`),
    measure(
      `import { BrowserAuth, browserApi } from ${JSON.stringify(entry)}; window.x = [BrowserAuth, browserApi];`,
    ),
    measure(`import { SpotifyApi } from '@spotify/web-api-ts-sdk'; window.x = SpotifyApi;`),
  ]);
  return { everything, app, typed, sdk };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await bundleSizes();
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  for (const [name, size] of Object.entries(sizes)) {
    console.log(
      `${name.padEnd(12)} ${kb(size.minified).padStart(9)} minified ${kb(size.gzip).padStart(8)} gzip`,
    );
  }
  console.log('\nheaviest in the app bundle (minified bytes):');
  for (const { file, bytes } of sizes.app.heaviest.slice(0, 12))
    console.log(`  ${String(bytes).padStart(6)}  ${file}`);
}
