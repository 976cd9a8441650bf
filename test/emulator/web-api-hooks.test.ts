import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmulatorState } from '../../src/emulator/index.js';
import { createEmulatorServer, ROUTES, SERVED_WEB_API_ROUTES } from '../../src/emulator/server.js';
import { ApiError } from '../../src/emulator/web-api/endpoint.js';
import type { QuotaRequest } from '../../src/emulator/web-api/pipeline.js';
import { webApiRoutesWith } from '../../src/emulator/web-api.js';

/** The pipeline's quota hook: called after authentication with the app and operation, and able to refuse. */

const seen: QuotaRequest[] = [];
const state = createEmulatorState({ quiet: true });
const routes = [
  ...ROUTES.filter((route) => !SERVED_WEB_API_ROUTES.includes(route)),
  ...webApiRoutesWith({
    quota: (request) => {
      seen.push(request);
      return request.endpoint.operationId === 'get-track'
        ? new ApiError(429, 'Too many requests', {
            reason: 'QUOTA_EXCEEDED',
            headers: { 'Retry-After': '60' },
          })
        : undefined;
    },
  }),
];
const server = createEmulatorServer(state, () => url, { routes });
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('sees authenticated requests only, with app mode and operation; its refusal is sent as is', async () => {
  const token = state.issueAccessToken('spotauth-sandbox-client', 'alice', [], null);
  const headers = { authorization: `Bearer ${token}` };
  expect((await fetch(`${url}/v1/me`)).status).toBe(401);
  expect(seen).toHaveLength(0);
  expect((await fetch(`${url}/v1/me`, { headers })).status).toBe(200);
  expect(seen[0]).toMatchObject({
    app: { clientId: 'spotauth-sandbox-client', mode: 'development' },
    endpoint: { operationId: 'get-current-users-profile', key: 'GET /v1/me' },
  });
  const refused = await fetch(`${url}/v1/tracks/4uLU6hMCjMI75M1A2tKUQC`, { headers });
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('60');
  expect(await refused.json()).toEqual({
    error: { status: 429, message: 'Too many requests', reason: 'QUOTA_EXCEEDED' },
  });
});
