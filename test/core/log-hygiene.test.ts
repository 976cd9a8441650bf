import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SpotauthError } from '../../src/core/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { MemoryStore } from '../../src/stores/index.js';
import { TokenManager } from '../../src/tokens/index.js';
import { authorizeRedirect, control, emulatorAuth, login, startTestEmulator } from '../support/emulator.js';
import { must } from '../support/must.js';

/**
 * SECURITY §5: run the whole flow with canary token values and capture everything that could reach a log
 * (stdout, stderr, console, error messages, their JSON, inspect() output and causes). No canary, no
 * authorization code, no verifier and no secret may appear in any of it.
 */
describe('log hygiene: canary tokens never reach output or errors', () => {
  const CANARY = 'tok_CANARY_';
  let emulator: RunningEmulator;
  const captured: string[] = [];
  const secrets = new Set<string>();
  const spies: { mockRestore(): void }[] = [];

  beforeAll(async () => {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      spies.push(
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
          captured.push(String(chunk));
          return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
        }) as typeof stream.write),
      );
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      spies.push(
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => captured.push(inspect(args))),
      );
    }
    // Not quiet: whatever the emulator logs is captured too.
    emulator = await startTestEmulator({
      autoApprove: 'alice',
      tokenPrefix: CANARY,
      quiet: false,
      refreshMode: 'rotate',
    });
  });

  afterAll(async () => {
    await emulator.stop();
    for (const spy of spies) spy.mockRestore();
  });

  function record(error: unknown) {
    expect(error).toBeInstanceOf(SpotauthError);
    const e = error as SpotauthError;
    captured.push(
      e.message,
      JSON.stringify(e),
      inspect(e, { depth: 5 }),
      String(e.cause ?? ''),
      e.stack ?? '',
    );
  }

  it('runs login, refresh, client credentials and error paths, then finds no secret in any output', async () => {
    const auth = emulatorAuth(emulator);
    secrets.add(must(auth.config.clientSecret, 'auth.config.clientSecret'));
    const { request, callback, tokens } = await login(auth);
    secrets
      .add(tokens.accessToken)
      .add(must(tokens.refreshToken, 'a refresh token'))
      .add(request.codeVerifier);
    secrets.add(must(new URL(callback).searchParams.get('code'), 'a code parameter'));
    expect(tokens.accessToken.startsWith(CANARY)).toBe(true);

    const manager = new TokenManager({ auth, store: new MemoryStore(), retry: { maxAttempts: 1 } });
    const saved = await manager.saveGrant(tokens, { id: 'alice' });
    const refreshed = await manager.refreshNow('alice');
    secrets
      .add(refreshed.accessToken)
      .add(
        must(
          (await manager.getGrant('alice'))?.refreshToken,
          "(await manager.getGrant('alice')).refreshToken",
        ),
      );
    secrets.add((await manager.getAppToken()) as string);
    expect(saved.key).toBe('user:alice');

    // Error paths: replayed code, reused rotated refresh token, malformed token responses, faults.
    try {
      const again = auth.validateCallback(callback, { state: request.state });
      await auth.exchangeCode(again, {
        codeVerifier: request.codeVerifier,
        redirectUri: request.redirectUri,
      });
    } catch (error) {
      record(error);
    }
    try {
      await auth.refresh(must(tokens.refreshToken, 'a refresh token'));
    } catch (error) {
      record(error);
    }
    for (const kind of ['bad_token_type', 'bad_expires_in', 'server_error', 'error_transient', 'redirect']) {
      await control(emulator, 'faults', { endpoint: 'token', kind, count: 1 });
      try {
        await auth.clientCredentials();
      } catch (error) {
        record(error);
      }
    }
    // A callback carrying a real code but a forged state.
    const second = await auth.createAuthorizationRequest({ scope: 'user-read-email' });
    const forged = (await authorizeRedirect(second.url)).replace(/state=[^&]*/, 'state=forged');
    secrets.add(must(new URL(forged).searchParams.get('code'), 'a code parameter')).add(second.codeVerifier);
    try {
      auth.validateCallback(forged, { state: second.state });
    } catch (error) {
      record(error);
    }
    // Revoked grant through the manager.
    await control(emulator, 'revoke', { user_id: 'alice' });
    try {
      await manager.refreshNow('alice');
    } catch (error) {
      record(error);
    }

    const everything = captured.join('\n');
    expect(captured.length).toBeGreaterThan(10);
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toMatch(/Bearer [A-Za-z0-9]/);
    expect(everything).not.toMatch(/code=[A-Za-z0-9_-]{8}/);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
