import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'emulator/index': 'src/emulator/index.ts',
    'server/index': 'src/server/index.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fetch': 'src/adapters/fetch.ts',
    'broker-client/index': 'src/broker-client/index.ts',
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  splitting: true,
  clean: true,
  dts: {
    entry: {
      index: 'src/index.ts',
      'emulator/index': 'src/emulator/index.ts',
      'server/index': 'src/server/index.ts',
      'adapters/fastify': 'src/adapters/fastify.ts',
      'adapters/express': 'src/adapters/express.ts',
      'adapters/fetch': 'src/adapters/fetch.ts',
      'broker-client/index': 'src/broker-client/index.ts',
    },
  },
  sourcemap: false,
  // Optional native module: resolved at run time, never bundled.
  external: ['@napi-rs/keyring'],
});
