// examples/deno (Deno.serve + spotauth/fetch, Redis store) under the deno binary from npm, walked in Chromium,
// with the permissions the README gives. better-sqlite3 does not load in Deno (see the example).
import { join } from 'node:path';
import { BIN, startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

describeExample('examples/deno (Deno)', {
  store: ['redis', 'memory'],
  onDeadGrant: 'page',
  start: (env) =>
    startExample({
      command: join(BIN, 'deno'),
      args: [
        'run',
        '--allow-net=127.0.0.1',
        '--allow-env',
        '--allow-read',
        '--allow-sys=hostname',
        'examples/deno/server.ts',
      ],
      env,
      ready: /deno example listening/,
    }),
});
