#!/usr/bin/env node
// Bundle sizes, esbuild-minified and gzipped (level 9), of spotauth/browser next to the official
// @spotify/web-api-ts-sdk, each the way an app gets it:
//   - spotauth/browser, everything: the prebuilt dist-browser/index.js as shipped (minified), what a page
//     without a bundler loads;
//   - spotauth/browser, tokens: BrowserAuth only (login, tokens across tabs), an app that sends its own
//     requests with getAccessToken() or hands the token to the Web Playback SDK; bundled from the prebuilt
//     file as a bundler of the package sees it, tree-shaken;
//   - spotauth/browser, an app: BrowserAuth and the Web API fetch (webApiFetch), the same way;
//   - + typed client: the same app also using browserApi (openapi-fetch over the spec);
//   - the official SDK: `SpotifyApi.withUserAuthorization` (its PKCE login; its other auth, cache and
//     endpoint classes come with it, nothing shakes off).
// Also which source files weigh most in the app bundle (the same app bundled from src, for the metafile).
// Needs `npm run build` first. Used by browser-refresh.bench.mjs; runnable alone.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BROWSER = `${ROOT}dist-browser/index.js`;

function sizeOf(code) {
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

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
  return { ...sizeOf(code), heaviest };
}

const TOKENS = 'import { BrowserAuth } from MODULE; window.x = BrowserAuth;';
const APP = 'import { BrowserAuth, webApiFetch } from MODULE; window.x = [BrowserAuth, webApiFetch];';
const TYPED =
  'import { BrowserAuth, webApiFetch, browserApi } from MODULE; window.x = [BrowserAuth, webApiFetch, browserApi];';

export async function bundleSizes() {
  const from = (template, module) => template.replace('MODULE', JSON.stringify(module));
  const [tokens, app, typed, sources, sdk] = await Promise.all([
    measure(from(TOKENS, BROWSER)),
    measure(from(APP, BROWSER)),
    measure(from(TYPED, BROWSER)),
    measure(from(APP, `${ROOT}src/browser/index.ts`)),
    measure(
      `import { SpotifyApi } from '@spotify/web-api-ts-sdk';
       window.x = SpotifyApi.withUserAuthorization('client-id', 'https://app.example/', ['user-top-read']);`,
    ),
  ]);
  const everything = sizeOf(readFileSync(BROWSER));
  return { everything, tokens, app: { ...app, heaviest: sources.heaviest }, typed, sdk };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await bundleSizes();
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  for (const [name, size] of Object.entries(sizes)) {
    console.log(
      `${name.padEnd(12)} ${kb(size.minified).padStart(9)} minified ${kb(size.gzip).padStart(8)} gzip`,
    );
  }
  console.log('\nheaviest in the app bundle (minified bytes, bundled from src):');
  for (const { file, bytes } of sizes.app.heaviest.slice(0, 12))
    console.log(`  ${String(bytes).padStart(6)}  ${file}`);
}
