import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { isSpotauthError } from 'spotauth';
import { getSpotauth } from '@/lib/spotauth';
import { LogoutForm } from '../logout-form';

export default async function Me() {
  const requestHeaders = await headers(); // first: it makes the page dynamic (rendered per request)
  const spotauth = await getSpotauth();
  const session = await spotauth.session(requestHeaders);
  if (!session) redirect(spotauth.loginUrl('/me'));
  const api = await spotauth.api(requestHeaders);
  const [me, top] = await Promise.all([api.me(), api.topTracks(5)]).catch((error: unknown) => {
    // The grant died (revoked on Spotify, say): its sessions have ended, so log in again.
    if (isSpotauthError(error, 'REAUTH_REQUIRED')) redirect(spotauth.loginUrl('/me'));
    throw error;
  });
  const title = me?.display_name ?? 'Profile';
  return (
    <>
      <title>{title}</title>
      <h1>{title}</h1>
      <h2>Your top tracks</h2>
      <ol>
        {(top?.items ?? []).map((track) => (
          <li key={track.id}>
            {track.name} — {track.artists?.[0]?.name}
          </li>
        ))}
      </ol>
      <LogoutForm csrfToken={session.csrfToken} />
    </>
  );
}
