import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SpotauthHandler } from '../../auth/handler.js';
import { SCRIPT, STYLESHEET } from '../assets.js';
import { homePage, layout } from '../pages.js';
import { renderProfile } from '../profile-view.js';

export interface PageOptions {
  handler: SpotauthHandler;
  scope: readonly string[];
  sandbox: boolean;
  /** Headers of every HTML page (CSP and friends). */
  htmlHeaders: Readonly<Record<string, string>>;
}

/** The standalone app's own pages: home (log in) or profile, and the one CSS and JS file they use. */
export function registerPages(app: FastifyInstance, options: PageOptions): void {
  const { handler, sandbox, htmlHeaders } = options;
  const page = (reply: FastifyReply, title: string, body: string, csrfToken?: string) =>
    reply
      .code(200)
      .headers(htmlHeaders)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(layout(title, body, { sandbox, signedIn: csrfToken ? { name: '', csrfToken } : undefined }));

  app.get('/', async (request, reply) => {
    const session = await app.spotauth.session(request);
    if (!session) return page(reply, 'Log in', homePage(options.scope, sandbox));
    const body = await renderProfile({ request, handler, session });
    return page(reply, 'Your Spotify', body, session.csrfToken);
  });
  const asset = (type: string, body: string) => (_request: unknown, reply: FastifyReply) =>
    reply
      .header('content-type', `${type}; charset=utf-8`)
      .header('cache-control', 'public, max-age=3600')
      .send(body);
  app.get('/assets/app.css', asset('text/css', STYLESHEET));
  app.get('/assets/app.js', asset('text/javascript', SCRIPT));
  app.get('/favicon.ico', (_request, reply) =>
    reply.code(204).header('cache-control', 'public, max-age=86400').send(),
  );
}
