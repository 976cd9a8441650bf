import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../core/safe-equal.js';
import type { UnreadableRecord } from '../stores/types.js';
import type { AppDependencies } from './app.js';
import type { FailureLimiter } from './failure-limiter.js';
import { tokenResponse } from './token-response.js';

export type Respond = (
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  view: { title: string; message: string; error?: string },
) => FastifyReply;

/** Token broker for other backend services: Bearer one of SPOTAUTH_BROKER_KEYS. Disabled without keys. */
export function registerBrokerApi(
  app: FastifyInstance,
  deps: AppDependencies & { failures: FailureLimiter },
  respond: Respond,
): void {
  const keys = deps.config.brokerKeys;
  const authorized = (request: FastifyRequest): boolean => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    return keys.some((key) => safeEqual(presented, key)) && presented.length > 0;
  };
  if (keys.length === 0) {
    app.all('/api/*', (request, reply) =>
      respond(request, reply, 404, {
        title: 'Not found',
        message: 'The token broker API is disabled (set SPOTAUTH_BROKER_KEYS).',
        error: 'not_found',
      }),
    );
    return;
  }
  const requireKey = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const wait = deps.failures.blockedFor(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      void respond(request, reply, 429, {
        title: 'Slow down',
        message: `Too many attempts with a wrong API key; try again in ${wait} s.`,
        error: 'rate_limited',
      });
      return;
    }
    if (authorized(request)) return done();
    deps.failures.fail(request.ip);
    request.log.warn(
      { event: 'broker_key_rejected', key_id: presentedKeyId(request.headers.authorization) },
      'security: broker API request with a missing or wrong key',
    );
    reply.header('www-authenticate', 'Bearer');
    void respond(request, reply, 401, {
      title: 'Unauthorized',
      message: 'A valid broker API key is required (Authorization: Bearer …).',
      error: 'unauthorized',
    });
  };
  const guarded = { onRequest: requireKey };
  app.get('/api/v1/users', guarded, async (request, reply) => {
    const unreadable: UnreadableRecord[] = [];
    const grants = await deps.tokens.listGrants({ onUnreadable: (record) => unreadable.push(record) });
    if (unreadable.length > 0)
      request.log.warn(
        { event: 'records_unreadable', count: unreadable.length, keys: unreadable.map((r) => r.key) },
        'stored logins that cannot be read were left out of the user list',
      );
    reply.header('cache-control', 'no-store');
    return {
      unreadable: { count: unreadable.length, keys: unreadable.map((record) => record.key) },
      users: grants.map((grant) => ({
        account: grant.key.slice('user:'.length),
        display_name: grant.meta?.['displayName'] ?? null,
        status: grant.status,
        reauth_reason: grant.reauthReason ?? null,
        scope: grant.scope.join(' '),
        authorized_at: new Date(grant.authorizedAt).toISOString(),
        refresh_token_expires_at: grant.refreshTokenDeadline
          ? new Date(grant.refreshTokenDeadline).toISOString()
          : null,
      })),
    };
  });
  app.get<{ Params: { account: string } }>(
    '/api/v1/users/:account/token',
    guarded,
    async (request, reply) => {
      const account = request.params.account;
      if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(account))
        return respond(request, reply, 400, {
          title: 'Bad account id',
          message: 'The account id has unexpected characters.',
          error: 'bad_request',
        });
      const token = await deps.tokens.getToken(account);
      reply.header('cache-control', 'no-store');
      return tokenResponse(token);
    },
  );
  app.get('/api/v1/app-token', guarded, async (_request, reply) => {
    const token = await deps.tokens.getAppToken();
    reply.header('cache-control', 'no-store');
    return { access_token: token, token_type: 'Bearer' };
  });
}

/**
 * The id part of a presented key, for the log: only keys shaped `sk_<id>_<secret>` have one, and the id
 * is not secret. Anything else is logged as absent or malformed, never echoed.
 */
function presentedKeyId(header: string | undefined): string {
  if (header === undefined) return 'none';
  const match = /^Bearer sk_([A-Za-z0-9]{1,32})_/.exec(header);
  return match ? match[1]! : 'unrecognised';
}
