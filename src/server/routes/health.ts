import type { FastifyInstance } from 'fastify';
import type { SpotauthHandler } from '../../auth/handler.js';
import { safeEqual } from '../../core/safe-equal.js';
import type { SpotifyAuth } from '../../core/spotify-auth.js';
import type { TokenStore } from '../../stores/types.js';
import { sendView } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';

/** How long /readyz reuses its last probe: load balancers poll it, and each probe is an outbound request. */
const READY_PROBE_TTL_MS = 5_000;

export interface HealthOptions {
  handler: SpotauthHandler;
  auth: SpotifyAuth;
  store: TokenStore;
  metrics: ServerMetrics;
  /** SPOTAUTH_METRICS_TOKEN: when set, /metrics needs it as a bearer token. */
  metricsToken: string | undefined;
}

/** `/healthz` (alive), `/readyz` (store and accounts service answer), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const { auth, store, metrics, metricsToken, handler } = options;
  app.get('/healthz', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ ok: true }),
  );

  // One probe at a time, reused for a few seconds: hammering /readyz never multiplies outbound requests.
  let readiness: { at: number; result: Promise<{ store: boolean; accounts: boolean }> } | undefined;
  const probe = async () => {
    const checks = { store: false, accounts: false };
    try {
      await store.get('health:probe');
      checks.store = true;
    } catch {}
    try {
      const response = await auth.config.fetch(auth.config.accountsUrl, {
        method: 'HEAD',
        redirect: 'manual',
        signal: AbortSignal.timeout(2_000),
      });
      await response.body?.cancel();
      checks.accounts = true;
    } catch {}
    return checks;
  };
  app.get('/readyz', async (_request, reply) => {
    if (!readiness || Date.now() - readiness.at >= READY_PROBE_TTL_MS)
      readiness = { at: Date.now(), result: probe() };
    const checks = await readiness.result;
    const ok = checks.store && checks.accounts;
    return reply
      .code(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ ok, checks });
  });

  app.get('/metrics', async (request, reply) => {
    if (metricsToken !== undefined) {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!safeEqual(presented, metricsToken)) {
        return sendView(
          handler,
          request,
          reply,
          {
            status: 401,
            error: 'unauthorized',
            title: 'Unauthorized',
            message: 'The metrics need Authorization: Bearer <SPOTAUTH_METRICS_TOKEN>.',
          },
          { 'www-authenticate': 'Bearer' },
        );
      }
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
