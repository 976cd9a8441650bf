/** Spotify's redirect-URI rules (FACTS §4) and RFC 8252 loopback matching (SECURITY §8). */
import { describe, expect, it } from 'vitest';
import {
  assertValidRedirectUri,
  redirectUriMatches,
  SpotauthError,
  SpotifyAuth,
} from '../../src/core/index.js';

function refusal(uri: string): SpotauthError {
  try {
    assertValidRedirectUri(uri);
  } catch (error) {
    expect(error).toBeInstanceOf(SpotauthError);
    expect((error as SpotauthError).code).toBe('INVALID_REDIRECT_URI');
    return error as SpotauthError;
  }
  throw new Error(`${uri} was accepted`);
}

describe('assertValidRedirectUri', () => {
  it.each([
    'https://example.com/callback',
    'https://example.com/callback/',
    'https://app.example.com:8443/auth/spotify?x=1',
    'http://127.0.0.1:8888/callback',
    'http://127.0.0.1/callback',
    'http://[::1]:8000/callback',
    'http://[::1]/callback',
    'my-awesome-app-login://callback',
  ])('accepts %s and returns it parsed', (uri) => {
    const url = assertValidRedirectUri(uri);
    expect(url).toBeInstanceOf(URL);
    expect(url.href.replace(/\/$/, '')).toBe(new URL(uri).href.replace(/\/$/, ''));
  });

  it.each([
    ['http://localhost:8888/callback', 'http://127.0.0.1:8888/callback'],
    ['http://LOCALHOST:8888/callback', 'http://127.0.0.1:8888/callback'],
    ['https://localhost/callback', 'https://127.0.0.1/callback'],
    ['http://app.localhost:3000/callback', undefined],
    ['http://localhost./callback', undefined],
  ])('refuses %s, pointing at the loopback IP literal', (uri, fixed) => {
    const error = refusal(uri);
    expect(error.message).toContain('localhost');
    expect(error.message).toContain('127.0.0.1');
    if (fixed) expect(error.message).toContain(fixed);
  });

  it.each([
    'http://example.com/callback',
    'http://example.com',
    'http://192.168.1.10:8888/callback',
    'http://127.0.0.2:8888/callback',
    'http://0.0.0.0:8888/callback',
  ])('refuses plain http on a non-loopback host: %s', (uri) => {
    const error = refusal(uri);
    expect(error.message).toMatch(/https/);
    expect(error.message).toContain('127.0.0.1');
  });

  it.each([
    'https://example.com/callback#frag',
    'http://127.0.0.1:8888/callback#',
    'https://example.com/callback#access_token=x',
  ])('refuses a fragment: %s', (uri) => {
    expect(refusal(uri).message).toMatch(/fragment/);
  });

  it.each([
    'javascript:alert(1)',
    'JavaScript://example.com/%0Aalert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
    'vbscript:msgbox',
    'ws://127.0.0.1:8888/callback',
  ])('refuses the dangerous scheme of %s', (uri) => {
    expect(refusal(uri).message).toMatch(/scheme/);
  });

  it('refuses an empty redirect URI', () => {
    expect(refusal('').message).toMatch(/required/);
  });

  it.each(['callback', '/callback', '127.0.0.1:8888/callback', '//127.0.0.1:8888/callback'])(
    'refuses a non-absolute URI %j',
    (uri) => {
      expect(refusal(uri).message).toMatch(/not an absolute URL/);
    },
  );

  it('refuses credentials in the URI and over-long URIs', () => {
    expect(refusal('https://user:pass@example.com/callback').message).toMatch(/user name or password/);
    const long = `https://example.com/${'a'.repeat(2048)}`;
    expect(refusal(long).message).toMatch(/longer than 2048/);
  });

  it('is applied to the configured redirectUri at construction', () => {
    expect(() => new SpotifyAuth({ clientId: 'abc', redirectUri: 'http://localhost:8888/callback' })).toThrow(
      /127\.0\.0\.1/,
    );
    expect(
      () => new SpotifyAuth({ clientId: 'abc', redirectUri: 'http://127.0.0.1:8888/callback' }),
    ).not.toThrow();
  });
});

describe('redirectUriMatches', () => {
  it.each([
    // registered, requested, expected
    ['https://example.com/callback', 'https://example.com/callback', true],
    ['https://example.com/callback', 'https://example.com/Callback', false],
    ['https://example.com/callback', 'https://EXAMPLE.com/callback', false],
    ['https://example.com/callback', 'https://example.com/callback/', false],
    ['https://example.com/callback/', 'https://example.com/callback', false],
    ['https://example.com/callback', 'https://example.com/callback?x=1', false],
    ['http://127.0.0.1:8888/callback', 'http://127.0.0.1:8888/callback', true],
  ] as const)('exact match: %s vs %s → %s', (registered, requested, expected) => {
    expect(redirectUriMatches(registered, requested)).toBe(expected);
  });

  it.each([
    ['http://127.0.0.1/callback', 'http://127.0.0.1:8888/callback', true],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:54321/callback', true],
    ['http://[::1]/callback', 'http://[::1]:8000/callback', true],
    // …but only the port may differ.
    ['http://127.0.0.1/callback', 'http://127.0.0.1:8888/other', false],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:8888/callback/', false],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:8888/Callback', false],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:8888/callback?x=1', false],
    ['http://127.0.0.1/callback', 'http://[::1]:8888/callback', false],
    ['http://[::1]/callback', 'http://127.0.0.1:8888/callback', false],
    ['http://127.0.0.1/callback', 'https://127.0.0.1:8888/callback', false],
    ['http://127.0.0.1/callback', 'http://localhost:8888/callback', false],
    ['http://127.0.0.1/callback', 'http://127.0.0.1.evil.com:8888/callback', false],
    ['http://127.0.0.1/callback', 'http://evil.com:8888/callback', false],
  ] as const)('loopback registered without a port: %s vs %s → %s', (registered, requested, expected) => {
    expect(redirectUriMatches(registered, requested)).toBe(expected);
  });

  it.each([
    ['http://127.0.0.1:8888/callback', 'http://127.0.0.1:9999/callback'],
    ['http://127.0.0.1:8888/callback', 'http://127.0.0.1/callback'],
    ['http://[::1]:8000/callback', 'http://[::1]:8001/callback'],
  ])('a loopback URI registered with a port matches only that port: %s vs %s', (registered, requested) => {
    expect(redirectUriMatches(registered, requested)).toBe(false);
    expect(redirectUriMatches(registered, registered)).toBe(true);
  });

  it.each([
    ['https://example.com/callback', 'https://example.com:8443/callback'],
    ['https://127.0.0.1/callback', 'https://127.0.0.1:8443/callback'],
    ['https://[::1]/callback', 'https://[::1]:8443/callback'],
  ])('https is never port-flexible: %s vs %s', (registered, requested) => {
    expect(redirectUriMatches(registered, requested)).toBe(false);
  });

  it('garbage never matches', () => {
    expect(redirectUriMatches('http://127.0.0.1/callback', 'not a url')).toBe(false);
    expect(redirectUriMatches('not a url', 'http://127.0.0.1:1/callback')).toBe(false);
  });
});

describe('createAuthorizationRequest redirectUri override', () => {
  const portless = new SpotifyAuth({ clientId: 'abc', redirectUri: 'http://127.0.0.1/callback' });
  const fixed = new SpotifyAuth({ clientId: 'abc', redirectUri: 'http://127.0.0.1:8888/callback' });

  it('uses an ephemeral port against a portless loopback registration', async () => {
    const request = await portless.createAuthorizationRequest({
      redirectUri: 'http://127.0.0.1:40123/callback',
    });
    expect(request.redirectUri).toBe('http://127.0.0.1:40123/callback');
    expect(request.url.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:40123/callback');
  });

  it('defaults to the configured URI, byte for byte', async () => {
    const request = await fixed.createAuthorizationRequest();
    expect(request.url.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:8888/callback');
  });

  it.each([
    [fixed, 'http://127.0.0.1:9999/callback', 'INVALID_REDIRECT_URI'],
    [portless, 'http://127.0.0.1:40123/other', 'INVALID_REDIRECT_URI'],
    [portless, 'http://localhost:40123/callback', 'INVALID_REDIRECT_URI'],
  ] as const)('refuses a URI that does not match the registration (%#)', async (auth, uri, code) => {
    await expect(auth.createAuthorizationRequest({ redirectUri: uri })).rejects.toMatchObject({ code });
  });
});
