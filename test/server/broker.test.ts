import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control } from '../support/emulator.js';
import { Browser, startTestServer, type TestServer } from '../support/server.js';

const KEY = 'broker-key-0123456789abcdef0123456789abcdef';

describe('token broker API', () => {
  let server: TestServer;
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    server = await startTestServer({ env: { SPOTAUTH_BROKER_KEYS: KEY } });
    await new Browser().login(server);
  });
  afterAll(() => server.close());

  it('refuses requests without the key, or with a wrong one', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }, { authorization: KEY }];
    for (const headers of variants) {
      const response = await fetch(`${server.url}/api/v1/users`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await response.json()) as { error: string }).error).toBe('unauthorized');
    }
  });

  it('lists grants with status, scopes and the refresh-token deadline', async () => {
    const response = await fetch(`${server.url}/api/v1/users`, { headers: auth });
    expect(response.status).toBe(200);
    const { users } = (await response.json()) as {
      users: { account: string; status: string; scope: string; refresh_token_expires_at: string }[];
    };
    expect(users).toHaveLength(1);
    expect(users[0]!.status).toBe('active');
    expect(users[0]!.scope).toContain('user-top-read');
    expect(Date.parse(users[0]!.refresh_token_expires_at)).toBeGreaterThan(Date.now() + 180 * 86_400_000);
  });

  it('hands a valid user token to another service, refreshed as needed; reauth_required once revoked', async () => {
    const { users } = (await (await fetch(`${server.url}/api/v1/users`, { headers: auth })).json()) as {
      users: { account: string }[];
    };
    const account = users[0]!.account;
    const response = await fetch(`${server.url}/api/v1/users/${account}/token`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { access_token: string; expires_in: number };
    expect(server.emulator.state.lookupAccessToken(body.access_token)?.userId).toBe('alice');
    expect(body).not.toHaveProperty('refresh_token');

    await control(server.emulator, 'revoke', { user_id: 'alice' });
    await server.tokens.refreshNow(account).catch(() => {});
    const revoked = await fetch(`${server.url}/api/v1/users/${account}/token`, { headers: auth });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: string }).error).toBe('reauth_required');
  });

  it('rejects malformed account ids and serves the app token', async () => {
    expect(
      (await fetch(`${server.url}/api/v1/users/${encodeURIComponent('<x>')}/token`, { headers: auth }))
        .status,
    ).toBe(400);
    const app = await fetch(`${server.url}/api/v1/app-token`, { headers: auth });
    const { access_token } = (await app.json()) as { access_token: string };
    expect(server.emulator.state.lookupAccessToken(access_token)?.userId).toBeNull();
  });
});

describe('token broker API without keys', () => {
  it('is disabled: 404 with an explanation', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/api/v1/users`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { message: string }).message).toContain('SPOTAUTH_BROKER_KEYS');
    } finally {
      await server.close();
    }
  });
});
