// examples/fastify (Fastify 5 + spotauth/fastify, Redis store) as a real process, walked in Chromium.
import { startExample } from '../../support/example-app.js';
import { describeExample } from '../../support/login-walk.js';

describeExample('examples/fastify', {
  store: ['redis', 'sqlite'],
  onDeadGrant: 'page',
  start: (env) =>
    startExample({
      command: process.execPath,
      args: ['examples/fastify/server.js'],
      env,
      ready: /fastify example listening/,
    }),
});
