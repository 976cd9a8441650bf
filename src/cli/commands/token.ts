import { accountOf, checkProfile, openCliStore, requireProfile } from '../context.js';

export interface TokenOptions {
  profile?: string;
  json?: boolean;
}

// Hand out a cached token only with at least this much life left, so a script's next call still works.
const MIN_REMAINING_MS = 60_000;

/** Prints a valid access token and nothing else on stdout; refreshes (once, across processes) if needed. */
export async function runToken(options: TokenOptions): Promise<void> {
  const profile = checkProfile(options.profile);
  const { store } = await openCliStore(false);
  try {
    let record = await requireProfile(store, profile);
    let token = {
      accessToken: record.accessToken,
      expiresAt: record.accessTokenExpiresAt,
      scope: record.scope,
    };
    if (record.status !== 'active' || record.accessTokenExpiresAt - Date.now() < MIN_REMAINING_MS) {
      // Only now pay for the protocol code: the common case above loads none of it.
      const { managerFor } = await import('./session.js');
      const manager = managerFor(record, store);
      token = await manager.getToken(record.key);
      record = (await store.get(record.key)) ?? record;
    }
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({
          access_token: token.accessToken,
          token_type: 'Bearer',
          expires_at: new Date(token.expiresAt).toISOString(),
          expires_in: Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000)),
          scope: token.scope.join(' '),
          profile,
          account: accountOf(record),
        })}\n`,
      );
    } else {
      process.stdout.write(`${token.accessToken}\n`);
    }
  } finally {
    await store.close();
  }
}
