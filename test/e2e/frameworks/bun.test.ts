// examples/bun (Bun.serve + spotauth/fetch, Redis store) under the bun binary from npm, walked in Chromium.
// better-sqlite3 does not load in Bun, so SQLite is not an option there (see the example).
import { join } from 'node:path';
import { BIN, startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

describeExample('examples/bun (Bun)', {
  store: ['redis', 'memory'],
  onDeadGrant: 'page',
  start: (env) =>
    startExample({
      command: join(BIN, 'bun'),
      args: ['examples/bun/server.ts'],
      env,
      ready: /bun example listening/,
    }),
});
