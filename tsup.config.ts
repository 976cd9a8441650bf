import { defineConfig } from 'tsup';

/**
 * The package's Node entry points (package.json "exports"), by output path. `spotauth/browser` is built
 * separately below. A new subpath needs a line here, one in package.json, and its list of names in
 * test/public-surface.snapshot.txt.
 */
const PUBLIC_ENTRIES = {
  index: 'src/index.ts',
  'stores/index': 'src/stores/index.ts',
  'testing/index': 'src/testing/index.ts',
  'server/index': 'src/server/index.ts',
  'adapters/fastify': 'src/adapters/fastify.ts',
  'adapters/express': 'src/adapters/express.ts',
  'adapters/fetch': 'src/adapters/fetch.ts',
  'broker-client/index': 'src/broker-client/index.ts',
  'emulator/index': 'src/emulator/index.ts',
};

export default defineConfig([
  {
    entry: { ...PUBLIC_ENTRIES, 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    splitting: true,
    clean: true,
    dts: { entry: PUBLIC_ENTRIES },
    sourcemap: false,
    // Optional native module: resolved at run time, never bundled.
    // vitest: spotauth/testing's optional peer, the test runner's own copy.
    external: ['@napi-rs/keyring', 'vitest'],
  },
  {
    // spotauth/browser: one self-contained ES module (openapi-fetch inlined), so a page can import it with
    // no bundler; bundlers tree-shake it as usual. Typed with DOM and without Node (src/browser/tsconfig).
    // Its own folder: both builds run at once, and the one above empties dist/ (declarations included).
    // Minified: a page without a bundler loads this very file (half the bytes of the readable build);
    // bundlers shake and minify it as well as the sources (bench/bundle-size.mjs measures both).
    entry: { index: 'src/browser/index.ts' },
    outDir: 'dist-browser',
    format: ['esm'],
    target: 'es2022',
    platform: 'browser',
    splitting: false,
    noExternal: ['openapi-fetch'],
    tsconfig: 'src/browser/tsconfig.json',
    dts: true,
    clean: true,
    minify: true,
    sourcemap: false,
  },
]);
