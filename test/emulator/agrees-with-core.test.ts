import { describe, expect, it } from 'vitest';
import {
  assertValidRedirectUri,
  redirectUriMatches as coreMatches,
  SPOTIFY_SCOPES,
} from '../../src/core/index.js';
import {
  redirectUriMatches as emulatorMatches,
  registrationProblem,
} from '../../src/emulator/redirect-uri.js';
import { EMULATOR_SCOPES } from '../../src/emulator/scopes.js';

/**
 * The emulator keeps its own copy of Spotify's rules (it is the other party and imports nothing from the
 * client). This keeps the two copies from drifting apart.
 */
describe('the emulator and core agree on Spotify’s rules', () => {
  it('same scope list', () => {
    expect(Object.keys(EMULATOR_SCOPES).sort()).toEqual(Object.keys(SPOTIFY_SCOPES).sort());
  });

  const uris = [
    'https://app.example/callback',
    'http://127.0.0.1:8888/callback',
    'http://[::1]:8000/callback',
    'http://127.0.0.1/callback',
    'http://localhost:8888/callback',
    'http://example.com/callback',
    'https://app.example/callback#frag',
    'javascript:alert(1)',
  ];
  it.each(uris)('same verdict on registering %s', (uri) => {
    let coreOk = true;
    try {
      assertValidRedirectUri(uri);
    } catch {
      coreOk = false;
    }
    expect(registrationProblem(uri) === null).toBe(coreOk);
  });

  const pairs: [string, string][] = [
    ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback'],
    ['http://127.0.0.1:8888/callback', 'http://127.0.0.1:8889/callback'],
    ['http://[::1]/callback', 'http://[::1]:4000/callback'],
    ['https://app.example/callback', 'https://app.example/callback/'],
    ['https://app.example/callback', 'https://app.example:8443/callback'],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/other'],
    ['http://127.0.0.1/Callback', 'http://127.0.0.1:5000/Callback'],
  ];
  it.each(pairs)('same match decision for %s vs %s', (registered, requested) => {
    expect(emulatorMatches(registered, requested)).toBe(coreMatches(registered, requested));
  });
});
