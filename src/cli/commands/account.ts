import { fetchCurrentUser } from '../../api/profile.js';
import type { TokenRecord } from '../../stores/types.js';
import { accountOf, checkProfile, findProfile, openCliStore, requireProfile } from '../context.js';
import { bold, dim, printable } from '../output.js';
import { managerFor } from './session.js';

export async function runWhoami(options: { profile?: string; json?: boolean }): Promise<void> {
  const profile = checkProfile(options.profile);
  const { store } = await openCliStore(false);
  try {
    const record = await requireProfile(store, profile);
    const manager = managerFor(record, store);
    const token = await manager.getAccessToken(record.key);
    const me = await fetchCurrentUser(manager.auth.config.apiUrl.href, token);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ profile, ...me, scope: record.scope })}\n`);
      return;
    }
    process.stdout.write(`${bold(printable(me.display_name ?? me.id))}\n`);
    process.stdout.write(
      `  account id: ${printable(me.account_id ?? me.id)}\n  user id:    ${printable(me.id)}\n`,
    );
    if (me.email) process.stdout.write(`  email:      ${printable(me.email)}\n`);
    if (me.product) process.stdout.write(`  product:    ${printable(me.product)}\n`);
    if (me.country) process.stdout.write(`  country:    ${printable(me.country)}\n`);
    process.stdout.write(`  scopes:     ${record.scope.join(' ') || '(none)'}\n`);
  } finally {
    await store.close();
  }
}

export async function runLogout(options: { profile?: string }): Promise<void> {
  const profile = checkProfile(options.profile);
  const { store } = await openCliStore(false);
  try {
    const record = await findProfile(store, profile);
    if (!record) {
      process.stderr.write(
        `Not logged in${profile === 'default' ? '' : ` (profile "${profile}")`}; nothing to do.\n`,
      );
      return;
    }
    await store.delete(record.key);
    process.stdout.write(
      `Logged out ${printable(record.meta?.['displayName'] ?? accountOf(record))}${profile === 'default' ? '' : ` (profile "${profile}")`}.\n`,
    );
    process.stderr.write(
      dim(
        "To also revoke access on Spotify's side, remove the app at https://www.spotify.com/account/apps/\n",
        process.stderr,
      ),
    );
  } finally {
    await store.close();
  }
}

export async function runStatus(options: { json?: boolean }): Promise<void> {
  const { store, key, dir } = await openCliStore(false);
  try {
    const records = (await store.list('user:')).sort((a, b) =>
      (a.meta?.['profile'] ?? '').localeCompare(b.meta?.['profile'] ?? ''),
    );
    const now = Date.now();
    const rows = records.map((record) => describe(record, now));
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ configDir: dir, keySource: key?.source ?? null, keyLocation: key?.location ?? null, profiles: rows })}\n`,
      );
      return;
    }
    process.stdout.write(
      `Credentials: ${dir} ${dim(`(encryption key: ${key ? `${key.source}, ${key.location}` : 'none yet'})`)}\n`,
    );
    if (rows.length === 0) {
      process.stdout.write('No logins stored. Run `spotauth login`.\n');
      return;
    }
    for (const row of rows) {
      process.stdout.write(
        `\n${bold(row.profile)}: ${printable(row.user)} (${printable(row.account)}) — ${row.state}\n`,
      );
      process.stdout.write(
        `  access token: ${row.accessToken}\n  refresh token valid until: ${row.refreshTokenDeadline ?? 'unknown'}\n`,
      );
      process.stdout.write(`  scopes: ${row.scope || '(none)'}\n`);
    }
  } finally {
    await store.close();
  }
}

function describe(record: TokenRecord, now: number) {
  const left = record.accessTokenExpiresAt - now;
  return {
    profile: record.meta?.['profile'] ?? '(none)',
    user: record.meta?.['displayName'] ?? record.meta?.['spotifyId'] ?? '?',
    account: accountOf(record),
    state: record.status === 'active' ? 'active' : `re-login needed (${record.reauthReason ?? 'unknown'})`,
    accessToken: left > 0 ? `valid for ${Math.floor(left / 60_000)} min` : 'expired (refreshed on next use)',
    accessTokenExpiresAt: new Date(record.accessTokenExpiresAt).toISOString(),
    refreshTokenDeadline: record.refreshTokenDeadline
      ? new Date(record.refreshTokenDeadline).toISOString()
      : undefined,
    scope: record.scope.join(' '),
  };
}
