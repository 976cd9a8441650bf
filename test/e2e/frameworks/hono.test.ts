// examples/hono (Hono on @hono/node-server + spotauth/fetch, memory store) as a real process, walked in Chromium.
import { startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

describeExample('examples/hono', {
  store: ['memory'],
  onDeadGrant: 'page',
  start: (env) =>
    startExample({
      command: process.execPath,
      args: ['examples/hono/server.js'],
      env,
      ready: /hono example listening/,
    }),
});
