// examples/express (Express 5 + spotauth/express, SQLite store) as a real process, walked in Chromium.
import { startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

describeExample('examples/express', {
  store: ['sqlite'],
  onDeadGrant: 'page',
  start: (env) =>
    startExample({
      command: process.execPath,
      args: ['examples/express/server.js'],
      env,
      ready: /express example listening/,
    }),
});
