import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { must } from '../support/must.js';
import {
  authorizeCode,
  CLIENT_ID,
  control,
  exchange,
  getAuthorize,
  parseConsentForm,
  pkcePair,
  REDIRECT_URI,
  start,
  stats,
  submitConsent,
} from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await start();
});
afterAll(() => emulator.stop());

describe('GET /authorize errors: a page, never a redirect', () => {
  const cases: [string, Record<string, string | undefined>, string][] = [
    ['unknown client_id', { client_id: 'nobody' }, 'INVALID_CLIENT: Invalid client'],
    ['missing client_id', { client_id: undefined }, 'INVALID_CLIENT: Invalid client'],
    [
      'unregistered redirect_uri',
      { redirect_uri: 'https://evil.example/callback' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    ['missing redirect_uri', { redirect_uri: undefined }, 'INVALID_CLIENT: Invalid redirect URI'],
    [
      'trailing slash differs',
      { redirect_uri: 'http://127.0.0.1:8888/callback/' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    [
      'case differs',
      { redirect_uri: 'http://127.0.0.1:8888/Callback' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    [
      'localhost alias',
      { redirect_uri: 'http://localhost:8888/callback' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    [
      'any port but another path',
      { redirect_uri: 'http://127.0.0.1:9999/other' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    [
      'https on a loopback registered as http',
      { redirect_uri: 'https://127.0.0.1/callback' },
      'INVALID_CLIENT: Invalid redirect URI',
    ],
    ['missing response_type', { response_type: undefined }, 'response_type must be code'],
    ['other response_type', { response_type: 'id_token' }, 'response_type must be code'],
    ['implicit grant', { response_type: 'token' }, 'implicit grant) was removed on 2025-11-27'],
    [
      'plain PKCE',
      { code_challenge: pkcePair().challenge, code_challenge_method: 'plain' },
      'code_challenge_method must be S256',
    ],
    ['PKCE without method', { code_challenge: pkcePair().challenge }, 'code_challenge_method must be S256'],
    ['method without challenge', { code_challenge_method: 'S256' }, 'code_challenge is required'],
    [
      'short challenge',
      { code_challenge: 'abc', code_challenge_method: 'S256' },
      'code_challenge must be 43 base64url',
    ],
    [
      'padded challenge',
      { code_challenge: `${pkcePair().challenge.slice(0, 42)}=`, code_challenge_method: 'S256' },
      '43 base64url',
    ],
  ];
  for (const [name, params, text] of cases) {
    it(`${name} → 400 "${text}"`, async () => {
      const result = await getAuthorize(emulator, params);
      expect(result.status).toBe(400);
      expect(result.location).toBeNull();
      expect(result.text).toContain(text);
      expect(result.response.headers.get('content-type')).toMatch(/^text\/html/);
    });
  }

  it('the client is checked before the redirect URI', async () => {
    const result = await getAuthorize(emulator, {
      client_id: 'nobody',
      redirect_uri: 'https://evil.example/',
    });
    expect(result.text).toContain('INVALID_CLIENT: Invalid client');
  });

  for (const scope of [
    'user-read-birthdate',
    'user-personalized',
    'user-read-email bogus',
    'user-read-email,user-read-private',
  ]) {
    it(`scope "${scope}" → bare "Illegal scope" page, no redirect`, async () => {
      const result = await getAuthorize(emulator, { scope });
      expect(result.status).toBe(400);
      expect(result.location).toBeNull();
      expect(result.text).toBe('Illegal scope');
    });
  }

  it('escapes reflected values and sets a strict CSP', async () => {
    const result = await getAuthorize(emulator, { response_type: '<script>' });
    expect(result.text).not.toContain('<script>');
    expect(result.response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('duplicated parameters are refused', async () => {
    const response = await fetch(`${emulator.url}/authorize?client_id=${CLIENT_ID}&client_id=${CLIENT_ID}`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Duplicate parameter');
  });
});

describe('redirect URI matching', () => {
  it('a loopback literal registered without a port accepts any port (IPv4 and IPv6)', async () => {
    for (const uri of [
      'http://127.0.0.1:53123/callback',
      'http://[::1]:4000/callback',
      'http://127.0.0.1/callback',
    ]) {
      const result = await getAuthorize(emulator, { redirect_uri: uri });
      expect(result.status, uri).toBe(200);
    }
  });

  it('a URI registered with a port matches only that port', async () => {
    await control(emulator, 'apps', {
      client_id: 'port-app',
      client_secret: 's',
      redirect_uris: ['http://127.0.0.1:8888/cb'],
    });
    expect(
      (await getAuthorize(emulator, { client_id: 'port-app', redirect_uri: 'http://127.0.0.1:8888/cb' }))
        .status,
    ).toBe(200);
    const other = await getAuthorize(emulator, {
      client_id: 'port-app',
      redirect_uri: 'http://127.0.0.1:9999/cb',
    });
    expect(other.status).toBe(400);
    expect(other.text).toContain('INVALID_CLIENT: Invalid redirect URI');
  });

  it('an app redirect URI with its own query keeps it, and the params are appended', async () => {
    await control(emulator, 'apps', {
      client_id: 'query-app',
      client_secret: 's',
      redirect_uris: ['https://app.example/cb?tenant=a%20b'],
    });
    await control(emulator, 'config', { auto_approve: 'alice' });
    try {
      const { location } = await getAuthorize(emulator, {
        client_id: 'query-app',
        redirect_uri: 'https://app.example/cb?tenant=a%20b',
      });
      expect(location).toMatch(/^https:\/\/app\.example\/cb\?tenant=a%20b&code=[^&]+&state=st-123$/);
    } finally {
      await control(emulator, 'config', { auto_approve: null });
    }
  });
});

describe('consent page', () => {
  it('renders users, scopes in plain words, labelled controls and a CSRF-protected form', async () => {
    const result = await getAuthorize(emulator, { scope: 'user-read-email user-top-read' });
    expect(result.status).toBe(200);
    const csp = result.response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:8888");
    expect(result.text).toContain('See your email address');
    expect(result.text).toContain('See your top artists and tracks');
    expect(result.text).not.toMatch(/<(img|script|link)\b/);
    const form = parseConsentForm(result.text);
    expect(form.action).toBe('/authorize/decision');
    expect(form.fields['request_id']).toBeTruthy();
    expect(must(form.fields['csrf'], "form.fields['csrf']").length).toBeGreaterThanOrEqual(43);
    expect(form.users).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    for (const id of result.text.matchAll(/<input type="radio" id="([^"]+)"/g)) {
      expect(result.text).toContain(`<label for="${id[1]}">`);
    }
  });

  it('Cancel → access_denied with the state', async () => {
    const page = await getAuthorize(emulator, { scope: 'user-read-email' });
    const result = await submitConsent(emulator, page.text, 'cancel');
    expect(result.status).toBe(303);
    expect(result.location).toBe(`${REDIRECT_URI}?error=access_denied&state=st-123`);
  });

  it('Cancel without a state → no state param', async () => {
    const page = await getAuthorize(emulator, { state: undefined });
    const result = await submitConsent(emulator, page.text, 'cancel');
    expect(result.location).toBe(`${REDIRECT_URI}?error=access_denied`);
  });

  it('Agree → code + state, a session cookie, and the code works', async () => {
    const page = await getAuthorize(emulator, { scope: 'user-read-email', state: 'a b&c' });
    const result = await submitConsent(emulator, page.text, 'agree', 'bob');
    expect(result.status).toBe(303);
    const location = new URL(must(result.location, 'result.location'));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('a b&c');
    expect(result.cookie).toMatch(/^sp_emulator_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const token = await exchange(emulator, must(location.searchParams.get('code'), 'a code parameter'));
    expect(token.status).toBe(200);
    expect(
      emulator.state.lookupAccessToken(must(token.json, 'a JSON body')['access_token'] as string)?.userId,
    ).toBe('bob');
  });

  it('a request id is single use', async () => {
    const page = await getAuthorize(emulator, {});
    await submitConsent(emulator, page.text, 'agree', 'alice');
    const again = await submitConsent(emulator, page.text, 'agree', 'alice');
    expect(again.status).toBe(400);
    expect(again.location).toBeNull();
  });

  it('a wrong CSRF token → 403, no redirect', async () => {
    const page = await getAuthorize(emulator, {});
    const result = await submitConsent(emulator, page.text, 'agree', 'alice', { csrf: 'forged' });
    expect(result.status).toBe(403);
    expect(result.location).toBeNull();
  });

  it('an unknown user → 400, no redirect', async () => {
    const page = await getAuthorize(emulator, {});
    const result = await submitConsent(emulator, page.text, 'agree', 'mallory');
    expect(result.status).toBe(400);
    expect(result.location).toBeNull();
  });

  it('show_dialog=false with the session cookie and covered scopes skips the page; more scopes or true do not', async () => {
    const page = await getAuthorize(emulator, { scope: 'user-read-email user-read-private' });
    const agreed = await submitConsent(emulator, page.text, 'agree', 'carol');
    const cookie = must(agreed.cookie?.split(';')[0], "agreed.cookie.split(';')[0]");
    const code = await authorizeCode(emulator, { scope: 'user-read-email' }, { cookie });
    const token = await exchange(emulator, code);
    expect(must(token.json, 'a JSON body')['scope']).toBe('user-read-email');
    expect(
      emulator.state.lookupAccessToken(must(token.json, 'a JSON body')['access_token'] as string)?.userId,
    ).toBe('carol');

    expect(
      (await getAuthorize(emulator, { scope: 'user-read-email', show_dialog: 'true' }, { cookie })).status,
    ).toBe(200);
    expect((await getAuthorize(emulator, { scope: 'user-top-read' }, { cookie })).status).toBe(200);
    expect((await getAuthorize(emulator, { scope: 'user-read-email' })).status).toBe(200);
    const shown = await getAuthorize(emulator, { scope: 'user-top-read' }, { cookie });
    expect(shown.text).toMatch(/value="carol" checked/);
  });

  it('after a revoke the page is shown again', async () => {
    const page = await getAuthorize(emulator, { scope: 'user-read-email' });
    const agreed = await submitConsent(emulator, page.text, 'agree', 'alice');
    const cookie = must(agreed.cookie?.split(';')[0], "agreed.cookie.split(';')[0]");
    expect((await getAuthorize(emulator, { scope: 'user-read-email' }, { cookie })).status).toBe(302);
    await control(emulator, 'revoke', { user_id: 'alice', client_id: CLIENT_ID });
    expect((await getAuthorize(emulator, { scope: 'user-read-email' }, { cookie })).status).toBe(200);
  });

  it('counts authorize requests and errors', async () => {
    const before = await stats(emulator);
    await getAuthorize(emulator, {});
    await getAuthorize(emulator, { client_id: 'nobody' });
    const after = await stats(emulator);
    expect(after.authorize_requests - before.authorize_requests).toBe(2);
    expect(after.authorize_errors - before.authorize_errors).toBe(1);
  });
});

describe('auto-approve', () => {
  it('by option: redirects straight back with a code for that user (after validating)', async () => {
    const auto = await start({ autoApprove: 'bob' });
    try {
      const result = await getAuthorize(auto, { scope: 'user-read-email' });
      expect(result.status).toBe(302);
      expect(result.location).toMatch(
        /^http:\/\/127\.0\.0\.1:8888\/callback\?code=[A-Za-z0-9_-]+&state=st-123$/,
      );
      const token = await exchange(
        auto,
        must(new URL(must(result.location, 'result.location')).searchParams.get('code'), 'a code parameter'),
      );
      expect(
        auto.state.lookupAccessToken(must(token.json, 'a JSON body')['access_token'] as string)?.userId,
      ).toBe('bob');
      expect((await getAuthorize(auto, { scope: 'user-read-birthdate' })).text).toBe('Illegal scope');
      expect((await getAuthorize(auto, { redirect_uri: 'https://evil.example/' })).location).toBeNull();
    } finally {
      await auto.stop();
    }
  });

  it('by environment variable', async () => {
    process.env['SPOTAUTH_EMULATOR_AUTO_APPROVE'] = 'carol';
    try {
      const auto = await start();
      try {
        expect(auto.state.config.autoApprove).toBe('carol');
        expect((await getAuthorize(auto, {})).status).toBe(302);
      } finally {
        await auto.stop();
      }
    } finally {
      delete process.env['SPOTAUTH_EMULATOR_AUTO_APPROVE'];
    }
  });

  it('by control API, and an unknown user is refused', async () => {
    expect((await control(emulator, 'config', { auto_approve: 'nobody' })).status).toBe(400);
    await control(emulator, 'config', { auto_approve: 'alice' });
    try {
      expect((await getAuthorize(emulator, {})).status).toBe(302);
    } finally {
      await control(emulator, 'config', { auto_approve: null });
    }
    expect((await getAuthorize(emulator, {})).status).toBe(200);
  });

  it('an unknown auto-approve user fails at start', async () => {
    await expect(start({ autoApprove: 'nobody' })).rejects.toThrow(/no such user/);
  });
});
