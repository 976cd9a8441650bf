import type { FastifyRequest } from 'fastify';
import { fromFastify } from '../adapters/fastify.js';
import { SpotifyApi } from '../api/client.js';
import type { SessionInfo, SpotauthHandler } from '../auth/handler.js';
import { isSpotauthError } from '../core/errors.js';
import type { TokenManager } from '../tokens/token-manager.js';
import { type ProfileView, profilePage } from './pages.js';

interface RenderContext {
  request: FastifyRequest;
  handler: SpotauthHandler;
  session: SessionInfo;
}

type Optional<T> = T | 'no-scope' | 'unavailable';

/**
 * The logged-in page. The profile is required (a revoked or expired grant ends the session and shows
 * "log in again" through the error handler); the rest is optional and degrades to "not granted" or
 * "unavailable" without failing the page.
 */
export async function renderProfile(context: RenderContext): Promise<string> {
  const { request, handler, session } = context;
  const api = new SpotifyApi({
    tokens: handler.tokens,
    user: session.user,
    retry: { maxAttempts: 2, maxRetryAfterMs: 2_000 },
  });
  // Ends the user's sessions everywhere when the grant is dead (then the error page says "log in again").
  const token: Awaited<ReturnType<TokenManager['getToken']>> = await handler.getAccessToken(
    fromFastify(request),
  );
  const granted = new Set(token.scope);
  const optional = async <T>(scope: string, load: () => Promise<T>): Promise<Optional<T>> => {
    if (!granted.has(scope)) return 'no-scope';
    try {
      return await load();
    } catch (error) {
      if (isSpotauthError(error, 'MISSING_SCOPE')) return 'no-scope';
      if (isSpotauthError(error, 'REAUTH_REQUIRED')) throw error;
      request.log.warn(
        { code: isSpotauthError(error) ? error.code : 'unknown' },
        'optional profile section failed',
      );
      return 'unavailable';
    }
  };

  const [me, topTracks, topArtists, playing] = await Promise.all([
    api.me(),
    optional('user-top-read', async () =>
      ((await api.topTracks(5))?.items ?? []).map(
        (t) => `${t.name} — ${(t.artists ?? []).map((a) => a.name).join(', ')}`,
      ),
    ),
    optional('user-top-read', async () => ((await api.topArtists(5))?.items ?? []).map((a) => a.name ?? '')),
    optional('user-read-currently-playing', async () => {
      const now = await api.currentlyPlaying();
      const item = now?.item as { name?: string; artists?: { name?: string }[] } | null | undefined;
      if (!now || !item) return null;
      return `${now.is_playing ? '▶' : '❚❚'} ${item.name ?? 'Unknown'}${item.artists ? ` — ${item.artists.map((a) => a.name).join(', ')}` : ''}`;
    }),
  ]);
  if (!me) throw new Error('empty profile');
  // FACTS §7: development-mode apps no longer get these; show whichever are present.
  const fields: [string, string][] = [];
  if (me.id) fields.push(['User id', me.id]);
  if (me.email) fields.push(['Email', me.email]);
  if (me.country) fields.push(['Country', me.country]);
  if (me.product) fields.push(['Plan', me.product]);
  if (me.followers?.total !== undefined) fields.push(['Followers', String(me.followers.total)]);
  if (me.external_urls?.spotify) fields.push(['Spotify page', me.external_urls.spotify]);
  const view: ProfileView = {
    displayName: me.display_name ?? undefined,
    accountId: (me as { account_id?: string }).account_id ?? me.id ?? session.account,
    spotifyId: me.id ?? '',
    imageUrl: me.images?.[0]?.url,
    fields,
    scopes: token.scope,
    expiresAt: token.expiresAt,
    csrfToken: session.csrfToken,
    topTracks,
    topArtists,
    playing,
  };
  return profilePage(view);
}
