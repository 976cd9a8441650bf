import { headers } from 'next/headers';
import { getSpotauth } from '@/lib/spotauth';
import { LogoutForm } from './logout-form';

export default async function Home() {
  const requestHeaders = await headers(); // first: it makes the page dynamic (rendered per request)
  const session = await (await getSpotauth()).session(requestHeaders);
  return (
    <>
      <title>Home</title>
      <h1>Home</h1>
      {session ? (
        <>
          <p>Logged in as {session.account}.</p>
          <p>
            <a href="/me">Your top tracks</a>
          </p>
          <LogoutForm csrfToken={session.csrfToken} />
        </>
      ) : (
        <>
          <p>
            <a href="/auth/spotify/login">Log in with Spotify</a>
          </p>
          <p>
            <a href="/me">Your top tracks</a>
          </p>
        </>
      )}
    </>
  );
}
