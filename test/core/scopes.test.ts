/** Scopes (FACTS §5) and the authorization request core builds (FACTS §1.1–1.4, SECURITY §1.1–1.2). */
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import {
  describeScope,
  isSpotifyScope,
  parseGrantedScope,
  parseScopes,
  SPOTIFY_SCOPES,
  SpotauthError,
  SpotifyAuth,
} from '../../src/core/index.js';
import { pkceChallenge, randomUrlSafe } from '../../src/core/pkce.js';

/** FACTS §5, copied independently of src/core/scopes.ts. */
const FACTS_SCOPES = [
  'ugc-image-upload',
  'user-read-playback-state',
  'user-modify-playback-state',
  'user-read-currently-playing',
  'app-remote-control',
  'streaming',
  'playlist-read-private',
  'playlist-read-collaborative',
  'playlist-modify-private',
  'playlist-modify-public',
  'user-follow-modify',
  'user-follow-read',
  'user-read-playback-position',
  'user-top-read',
  'user-read-recently-played',
  'user-library-modify',
  'user-library-read',
  'user-read-email',
  'user-read-private',
  'user-soa-link',
  'user-soa-unlink',
  'soa-manage-entitlements',
  'soa-manage-partner',
  'soa-create-partner',
];

function scopeError(input: string | readonly string[]): SpotauthError {
  try {
    parseScopes(input);
  } catch (error) {
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).code).toBe('INVALID_SCOPE');
    return error as SpotauthError;
  }
  throw new Error(`${String(input)} was accepted`);
}

describe('scopes', () => {
  it('knows exactly the scopes of FACTS §5', () => {
    for (const scope of FACTS_SCOPES) {
      expect(isSpotifyScope(scope), scope).toBe(true);
      expect(describeScope(scope)).not.toBe(scope);
    }
    expect(Object.keys(SPOTIFY_SCOPES).sort()).toEqual([...FACTS_SCOPES].sort());
    expect(parseScopes(FACTS_SCOPES)).toEqual(FACTS_SCOPES);
  });

  it('does not treat inherited object keys as scopes', () => {
    expect(isSpotifyScope('toString')).toBe(false);
    expect(isSpotifyScope('__proto__')).toBe(false);
    // An inherited member is not a reason either: the message is the unknown-scope one, no function source.
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const error = scopeError(name);
      expect(error.message).toContain('is not a Spotify Web API scope');
      expect(error.message).not.toMatch(/native code|function|\[object/);
    }
  });

  it('refuses the removed user-read-birthdate, naming it and why', () => {
    const error = scopeError('user-read-email user-read-birthdate');
    expect(error.message).toContain('"user-read-birthdate"');
    expect(error.message).toContain('2019');
  });

  it.each(['user-personalized', 'playlist-read', 'user-modify', 'user-read-play-history'])(
    'refuses the desktop-client scope %s, naming it',
    (scope) => {
      const error = scopeError(['user-read-email', scope]);
      expect(error.message).toContain(`"${scope}"`);
      expect(error.message).toMatch(/desktop client/);
    },
  );

  it('names an unknown scope and lists the known ones', () => {
    const error = scopeError('user-read-email, user-read-emial');
    expect(error.message).toContain('"user-read-emial"');
    expect(error.message).toContain('user-top-read');
    // Scope names are case-sensitive.
    expect(scopeError('User-Read-Email').message).toContain('"User-Read-Email"');
  });

  it('accepts space-, comma- and list-separated input and de-duplicates in order', () => {
    expect(parseScopes('user-top-read user-read-email  user-top-read')).toEqual([
      'user-top-read',
      'user-read-email',
    ]);
    expect(parseScopes('user-read-email,user-read-private, user-read-email')).toEqual([
      'user-read-email',
      'user-read-private',
    ]);
    expect(parseScopes(['streaming', 'streaming', 'user-read-private'])).toEqual([
      'streaming',
      'user-read-private',
    ]);
    expect(parseScopes(undefined)).toEqual([]);
    expect(parseScopes('')).toEqual([]);
    expect(parseScopes([])).toEqual([]);
  });

  it('refuses a scope list over 1 KiB', () => {
    const long = Array.from({ length: 70 }, () => 'user-read-email').join(' ');
    expect(long.length).toBeGreaterThan(1024);
    expect(scopeError(long).message).toMatch(/too long/);
    // Just under the limit is fine (and de-duplicated).
    const ok = Array.from({ length: 60 }, () => 'streaming').join(' ');
    expect(ok.length).toBeLessThanOrEqual(1024);
    expect(parseScopes(ok)).toEqual(['streaming']);
  });

  it('caps how much of a bad scope is echoed', () => {
    const error = scopeError(`x${'y'.repeat(500)}`);
    expect(error.message.length).toBeLessThan(1000);
    expect(error.message).not.toContain('y'.repeat(100));
  });

  it('parses granted scope as-is (even unknown ones), de-duplicated', () => {
    expect(parseGrantedScope('user-read-email  user-new-thing user-read-email')).toEqual([
      'user-read-email',
      'user-new-thing',
    ]);
    expect(parseGrantedScope('')).toEqual([]);
    expect(parseGrantedScope(undefined)).toBeUndefined();
  });
});

describe('createAuthorizationRequest', () => {
  const auth = new SpotifyAuth({ clientId: 'my-client_id.1', redirectUri: 'https://example.com/callback' });

  it('refuses a bad scope before building anything', async () => {
    await expect(auth.createAuthorizationRequest({ scope: 'user-read-birthdate' })).rejects.toMatchObject({
      code: 'INVALID_SCOPE',
      message: expect.stringContaining('user-read-birthdate'),
    });
  });

  it('refuses response_type=token: the implicit grant was removed in 2025', async () => {
    const attempt = auth.createAuthorizationRequest({ responseType: 'token', scope: 'user-read-email' });
    await expect(attempt).rejects.toBeInstanceOf(SpotauthError);
    await expect(attempt).rejects.toMatchObject({ code: 'IMPLICIT_GRANT_REMOVED' });
    const error = (await attempt.then(
      () => undefined,
      (e: unknown) => e,
    )) as SpotauthError;
    expect(error.message).toContain('2025');
    expect(error.message).toContain('PKCE');
    await expect(auth.createAuthorizationRequest({ responseType: 'id_token' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });

  it('builds the Spotify authorize URL with state and PKCE S256', async () => {
    const request = await auth.createAuthorizationRequest({
      scope: ['user-read-email', 'user-top-read', 'user-read-email'],
    });
    const { url } = request;
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.spotify.com/authorize');
    const params = url.searchParams;
    expect(params.get('client_id')).toBe('my-client_id.1');
    expect(params.get('response_type')).toBe('code');
    expect(params.get('redirect_uri')).toBe('https://example.com/callback');
    expect(params.get('scope')).toBe('user-read-email user-top-read');
    expect(url.search).toContain('scope=user-read-email+user-top-read');
    expect(request.scope).toEqual(['user-read-email', 'user-top-read']);
    expect(params.get('state')).toBe(request.state);
    // ≥ 256 bits of base64url.
    expect(request.state).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('code_challenge')).toBe(await oauth.calculatePKCECodeChallenge(request.codeVerifier));
    expect(params.has('show_dialog')).toBe(false);
    // No implicit-grant or OIDC leftovers.
    expect([...params.keys()].sort()).toEqual(
      [
        'client_id',
        'code_challenge',
        'code_challenge_method',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
      ].sort(),
    );
    // The verifier (43–128 chars, RFC 7636 §4.1) stays out of the URL.
    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(url.href).not.toContain(request.codeVerifier);
    expect(decodeURIComponent(url.href)).not.toContain(request.codeVerifier);
  });

  it('uses fresh state and verifier on every call', async () => {
    const a = await auth.createAuthorizationRequest();
    const b = await auth.createAuthorizationRequest();
    expect(a.state).not.toBe(b.state);
    expect(a.codeVerifier).not.toBe(b.codeVerifier);
    expect(a.url.searchParams.get('code_challenge')).not.toBe(b.url.searchParams.get('code_challenge'));
    expect(a.state).not.toBe(a.codeVerifier);
    // No scope requested → no scope parameter.
    expect(a.url.searchParams.has('scope')).toBe(false);
  });

  it('passes show_dialog through when given', async () => {
    const on = await auth.createAuthorizationRequest({ showDialog: true });
    const off = await auth.createAuthorizationRequest({ showDialog: false });
    expect(on.url.searchParams.get('show_dialog')).toBe('true');
    expect(off.url.searchParams.get('show_dialog')).toBe('false');
  });

  it('honours a custom accountsUrl', async () => {
    const emulator = new SpotifyAuth({
      clientId: 'abc',
      redirectUri: 'http://127.0.0.1:8888/callback',
      accountsUrl: 'http://127.0.0.1:4000/',
      allowInsecureHttp: true,
    });
    const { url } = await emulator.createAuthorizationRequest();
    expect(url.href.startsWith('http://127.0.0.1:4000/authorize?')).toBe(true);
  });

  it('needs a redirect URI for the code flow', async () => {
    const ccOnly = new SpotifyAuth({ clientId: 'abc', clientSecret: 'secret' });
    await expect(ccOnly.createAuthorizationRequest()).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

describe('PKCE S256 (RFC 7636 Appendix B)', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('core’s challenge function (WebCrypto, shared with the browser client) maps the RFC verifier to the RFC challenge', async () => {
    expect(await pkceChallenge(verifier)).toBe(challenge);
    // …as oauth4webapi computes it.
    expect(await oauth.calculatePKCECodeChallenge(verifier)).toBe(challenge);
  });

  it('verifiers and states are 32 CSPRNG bytes in base64url (43 characters), never repeated', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const value = randomUrlSafe();
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(value);
    }
    expect(seen.size).toBe(1000);
  });

  it('equals BASE64URL(SHA256(verifier)) without padding, computed independently', async () => {
    expect(createHash('sha256').update(verifier, 'ascii').digest('base64url')).toBe(challenge);
    const auth = new SpotifyAuth({ clientId: 'abc', redirectUri: 'https://example.com/cb' });
    const request = await auth.createAuthorizationRequest();
    expect(request.url.searchParams.get('code_challenge')).toBe(
      createHash('sha256').update(request.codeVerifier, 'ascii').digest('base64url'),
    );
  });
});
