import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpotauthHandler } from '../../auth/handler.js';
import { tokenResponse } from '../../auth/token-response.js';
import { WindowLimiter } from '../../auth/window-limiter.js';
import { safeEqual } from '../../core/safe-equal.js';
import type { UnreadableRecord } from '../../stores/types.js';
import type { TokenManager } from '../../tokens/token-manager.js';
import { sendView } from '../errors.js';

export interface BrokerOptions {
  handler: SpotauthHandler;
  tokens: TokenManager;
  /** Shared secrets other backend services present as `Authorization: Bearer <key>`. None: the API is off. */
  keys: readonly string[];
}

/** Token broker for other backend services under /api/v1, guarded per route by a bearer key. */
export async function brokerPlugin(app: FastifyInstance, options: BrokerOptions): Promise<void> {
  const { handler, tokens, keys } = options;
  const failures = new WindowLimiter(10, 60_000);
  if (keys.length === 0) {
    app.all('/api/*', (request, reply) =>
      sendView(handler, request, reply, {
        status: 404,
        error: 'not_found',
        title: 'Not found',
        message: 'The token broker API is disabled (set SPOTAUTH_BROKER_KEYS).',
      }),
    );
    return;
  }
  const authorized = (request: FastifyRequest): boolean => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
    return keys.some((key) => safeEqual(presented, key)) && presented.length > 0;
  };
  const requireKey = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const wait = failures.blockedFor(request.ip);
    if (wait > 0) {
      void sendView(
        handler,
        request,
        reply,
        {
          status: 429,
          error: 'rate_limited',
          title: 'Slow down',
          message: `Too many attempts with a wrong API key; try again in ${wait} s.`,
        },
        { 'retry-after': String(wait) },
      );
      return;
    }
    if (authorized(request)) return done();
    failures.fail(request.ip);
    request.log.warn(
      { event: 'broker_key_rejected', key_id: presentedKeyId(request.headers.authorization) },
      'security: broker API request with a missing or wrong key',
    );
    void sendView(
      handler,
      request,
      reply,
      {
        status: 401,
        error: 'unauthorized',
        title: 'Unauthorized',
        message: 'A valid broker API key is required (Authorization: Bearer …).',
      },
      { 'www-authenticate': 'Bearer' },
    );
  };
  const guarded = { onRequest: requireKey };
  app.get('/api/v1/users', guarded, async (request, reply) => {
    const unreadable: UnreadableRecord[] = [];
    const grants = await tokens.listGrants({ onUnreadable: (record) => unreadable.push(record) });
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
        return sendView(handler, request, reply, {
          status: 400,
          error: 'bad_request',
          title: 'Bad account id',
          message: 'The account id has unexpected characters.',
        });
      const token = await tokens.getToken(account);
      reply.header('cache-control', 'no-store');
      return tokenResponse(token);
    },
  );
  app.get('/api/v1/app-token', guarded, async (_request, reply) => {
    const token = await tokens.getAppToken();
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
