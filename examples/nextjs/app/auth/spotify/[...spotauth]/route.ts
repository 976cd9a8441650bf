// GET /auth/spotify/login, /callback, /token, /session; POST /auth/spotify/refresh, /logout
import { getSpotauth } from '@/lib/spotauth';

async function handle(request: Request): Promise<Response> {
  return (await getSpotauth()).fetch(request);
}

export { handle as GET, handle as POST };
