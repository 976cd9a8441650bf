/**
 * The token broker API under /api/v1, as a Fastify plugin (the standalone server registers it; it needs the
 * host app's error handler and 404 for everything that is not its own answer):
 *
 *   GET    /api/v1/openapi.json               this API as OpenAPI 3.1 (no key needed)
 *   GET    /api/v1/users                      grants the key may see: filters, cursor pagination
 *   GET    /api/v1/users/{id}                 one grant
 *   DELETE /api/v1/users/{id}                 unlink: grant, tokens and sessions go
 *   GET    /api/v1/users/{id}/token           a valid access token (409 + login_url when re-consent is due)
 *   ANY    /api/v1/users/{id}/spotify/{path}  the Web API with the user's token (proxy.ts)
 *   GET    /api/v1/app/token                  the client-credentials token (old name: /api/v1/app-token)
 *
 * Nothing here is per-process state that several instances would disagree on: keys, grants and sessions
 * live in the shared store; an instance remembers a key for at most 500 ms; the cursor is stateless. Two
 * things are per instance by design: the failed-key limiter (so N instances allow N× the attempts) and the
 * api client's rate-limit cooldown.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SpotauthHandler } from '../auth/handler.js';
import { tokenResponse } from '../auth/token-response.js';
import { WindowLimiter } from '../auth/window-limiter.js';
import { isUnreadableRecordError } from '../stores/codec.js';
import type { UnreadableRecord } from '../stores/types.js';
import type { TokenManager } from '../tokens/token-manager.js';
import { BrokerRefusal, type ErrorContext, refuse, sendBrokerError, sendJson } from './errors.js';
import { grantJson, pageOfGrants, parseListQuery } from './grants.js';
import { BrokerKeys, KeyVerifier, type Principal } from './keys.js';
import { buildOpenApiDocument } from './openapi.js';
import { ACCOUNT_ID, endpointRefusal, maySeeUser, missingScopes } from './permissions.js';
import { ProxyClient, type ProxyOptions, ResponseTooLarge, WebApiProxy } from './proxy.js';

/** Where the webhook outbox (and anything else that must follow a broker action) plugs in. */
export interface BrokerHooks {
  /**
   * After `DELETE /users/{id}` deleted the grant (tokens.deleteGrant, which also emits `deleted`) and ended
   * the user's sessions, before the 204 is sent: a failure here is the request's failure. This is where
   * `grant.deleted` webhooks are queued.
   */
  grantDeleted?(event: { account: string; userKey: string; keyId: string }): Promise<void> | void;
}

/** Options of the token broker's routes (mounted by the standalone server). */
export interface BrokerOptions {
  /** The login handler (sessions end with a deleted grant; login URLs). */
  handler: SpotauthHandler;
  /** The token manager handing out users' and the app's tokens. */
  tokens: TokenManager;
  /** SPOTAUTH_BROKER_KEYS: bootstrap keys with full access. Keys from `spotauth keys create` need none. */
  bootstrapKeys: readonly string[];
  /** The origin users open (login URLs in 409 answers). Default: the handler's origin. */
  publicUrl?: URL;
  /** Limits, Web API base, fetch and retry policy of the proxy. */
  proxy?: Partial<Omit<ProxyOptions, 'tokens'>>;
  /** How long an instance may trust its memory of a key (≤ 500 ms). */
  keyCacheMs?: number;
  /** Failed key attempts per client per minute before 429. Default 10. */
  failedKeyLimit?: number;
  /** Called after broker actions (the webhook outbox plugs in here). */
  hooks?: BrokerHooks;
}

declare module 'fastify' {
  interface FastifyRequest {
    brokerPrincipal: Principal | null;
  }
}

type UserRequest = FastifyRequest<{ Params: { id: string } }>;

export async function brokerRoutes(app: FastifyInstance, options: BrokerOptions): Promise<void> {
  const { handler, tokens } = options;
  const origin = (options.publicUrl ?? new URL(handler.origin)).origin;
  const keys = new BrokerKeys(handler.store.entries);
  const verifier = new KeyVerifier({
    keys,
    bootstrap: options.bootstrapKeys,
    cacheMs: options.keyCacheMs ?? 500,
    onTouchError: (error) =>
      app.log.warn(
        { event: 'broker_key_touch_failed', error: (error as Error)?.name },
        'could not record when a key was last used',
      ),
  });
  const failures = new WindowLimiter(options.failedKeyLimit ?? 10, 60_000);
  const proxy = new WebApiProxy({ tokens, ...options.proxy });
  const document = JSON.stringify(buildOpenApiDocument({ serverUrl: origin }));

  const loginUrl = (scopes?: readonly string[]): string =>
    `${origin}${handler.basePath}/login${scopes?.length ? `?scope=${encodeURIComponent(scopes.join(' '))}` : ''}`;
  const context = (request: FastifyRequest): ErrorContext => ({
    handler,
    loginUrl,
    scopes: request.brokerPrincipal?.permissions.scopes,
  });
  const fail = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    if (error instanceof BrokerRefusal && error.status === 403)
      request.log.warn(
        { event: 'broker_permission_denied', key_id: request.brokerPrincipal?.keyId, error: error.error },
        'broker request refused by the key’s permissions',
      );
    return sendBrokerError(request, reply, error, context(request));
  };

  app.decorateRequest('brokerPrincipal', null);

  const requireKey = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const wait = failures.blockedFor(request.ip);
    if (wait > 0) {
      sendJson(
        reply,
        429,
        {
          error: 'rate_limited',
          message: `Too many attempts with a wrong API key; try again in ${wait} s.`,
        },
        { 'retry-after': String(wait) },
      );
      return reply;
    }
    let verdict: Awaited<ReturnType<KeyVerifier['verify']>>;
    try {
      verdict = await verifier.verify(request.headers.authorization);
    } catch (error) {
      fail(request, reply, error);
      return reply;
    }
    if ('principal' in verdict) {
      request.brokerPrincipal = verdict.principal;
      return;
    }
    failures.fail(request.ip);
    request.log.warn(
      { event: 'broker_key_rejected', key_id: verdict.keyId, reason: verdict.rejected },
      'security: broker API request with a missing or wrong key',
    );
    sendJson(
      reply,
      401,
      {
        error: 'unauthorized',
        message:
          'A valid broker key is required (Authorization: Bearer sk_…). Create one with `spotauth keys create`, or set SPOTAUTH_BROKER_KEYS.',
      },
      { 'www-authenticate': 'Bearer' },
    );
    return reply;
  };

  /** The key a guarded route was called with (requireKey has set it, or answered already). */
  const principalOf = (request: FastifyRequest): Principal => {
    const principal = request.brokerPrincipal;
    if (principal === null) throw new Error('a broker route ran without its key check');
    return principal;
  };

  /**
   * The account of a per-user route, checked against the key: 400 or 403 otherwise. The token manager is
   * always given the full store key (`user:<account>`), so an id that itself starts with `user:` cannot
   * name another grant.
   */
  const accountOf = (request: UserRequest): string => {
    const account = request.params.id;
    if (!ACCOUNT_ID.test(account))
      throw refuse(
        'bad_request',
        'The account id has unexpected characters (letters, digits, "_", ".", ":", "-").',
      );
    if (!maySeeUser(principalOf(request).permissions, account))
      throw refuse('user_forbidden', 'This key may not see this user.');
    return account;
  };

  app.get('/api/v1/openapi.json', (_request, reply) =>
    reply
      .code(200)
      .headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' })
      .send(document),
  );

  const guarded = { onRequest: requireKey };

  app.get('/api/v1/users', guarded, async (request, reply) => {
    try {
      const query = parseListQuery(request.query as Record<string, unknown>);
      const permissions = principalOf(request).permissions;
      // Grants this key may see that cannot be read, in the ranges the page read (pageOfGrants).
      const unreadable: UnreadableRecord[] = [];
      const page = await pageOfGrants(
        (options) => tokens.listGrants(options),
        query,
        permissions,
        Date.now(),
        (record) => unreadable.push(record),
      );
      if (unreadable.length > 0)
        request.log.warn(
          { event: 'records_unreadable', count: unreadable.length, keys: unreadable.map((r) => r.key) },
          'stored logins that cannot be read were left out of the user list',
        );
      return sendJson(reply, 200, {
        users: page.users.map(grantJson),
        next_cursor: page.nextCursor,
        unreadable: { count: unreadable.length, keys: unreadable.map((record) => record.key) },
      });
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get<{ Params: { id: string } }>('/api/v1/users/:id', guarded, async (request, reply) => {
    try {
      const grant = await tokens.getGrant(`user:${accountOf(request)}`);
      if (!grant) throw refuse('user_not_found', 'No Spotify login is stored for this account.');
      return sendJson(reply, 200, grantJson(grant));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.delete<{ Params: { id: string } }>('/api/v1/users/:id', guarded, async (request, reply) => {
    try {
      const account = accountOf(request);
      const { keyId } = principalOf(request);
      const userKey = `user:${account}`;
      let exists: boolean;
      try {
        exists = (await tokens.getGrant(userKey)) !== null;
      } catch (error) {
        // A record that cannot be read can still be unlinked: that is one way out for its operator.
        if (!isUnreadableRecordError(error)) throw error;
        exists = true;
      }
      if (!exists) throw refuse('user_not_found', 'No Spotify login is stored for this account.');
      await tokens.deleteGrant(userKey);
      await handler.sessions.destroyUser(userKey);
      await options.hooks?.grantDeleted?.({
        account,
        userKey,
        keyId,
      });
      request.log.info(
        { event: 'grant_deleted', user: userKey, key_id: keyId },
        'grant deleted through the broker API',
      );
      return reply.code(204).header('cache-control', 'no-store').send();
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get<{ Params: { id: string } }>('/api/v1/users/:id/token', guarded, async (request, reply) => {
    try {
      const account = accountOf(request);
      const permissions = principalOf(request).permissions;
      const token = await tokens.getToken(`user:${account}`);
      const missing = missingScopes(permissions, token.scope);
      if (missing.length > 0)
        throw refuse(
          'grant_missing_scope',
          `This user's grant lacks ${missing.join(', ')}, which this key requires; ask them to log in again at login_url.`,
          { missing_scopes: missing, login_url: loginUrl(permissions.scopes ?? []) },
        );
      return sendJson(reply, 200, tokenResponse(token));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  const appToken = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const token = await tokens.getAppAccessToken();
      const { scope: _scope, ...body } = tokenResponse(token);
      return sendJson(reply, 200, body);
    } catch (error) {
      return fail(request, reply, error);
    }
  };
  app.get('/api/v1/app/token', guarded, appToken);
  app.get('/api/v1/app-token', guarded, async (request, reply) => {
    reply.header('link', '</api/v1/app/token>; rel="successor-version"');
    return appToken(request, reply);
  });

  // The proxy takes any body as bytes, up to its own limit (the server's 16 KiB is for its own routes).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: proxy.limits.maxRequestBytes },
      (_request, body, done) => done(null, body),
    );
    scope.route<{ Params: { id: string } }>({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
      url: '/api/v1/users/:id/spotify/*',
      bodyLimit: proxy.limits.maxRequestBytes,
      // Every answer that is not Spotify's says so, refusals before the handler (401, 413) included.
      onRequest: [
        async (_request, reply) => {
          reply.header('x-spotauth-source', 'broker');
        },
        requireKey,
      ],
      handler: async (request, reply) => {
        try {
          const permissions = principalOf(request).permissions;
          if (!permissions.proxy) throw refuse('proxy_forbidden', 'This key may not use the Web API proxy.');
          const account = accountOf(request);
          const { rawPath, rawQuery } = splitProxyUrl(request.url);
          const { url, apiPath } = proxy.target(rawPath, rawQuery);
          const required = endpointRefusal(permissions, request.method, apiPath);
          if (required)
            throw refuse(
              'scope_forbidden',
              `This endpoint needs ${required.join(' or ')}; this key may use only ${(permissions.scopes ?? []).join(', ')}.`,
              { required_scopes: required },
            );
          const client = new ProxyClient();
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) client.leave();
          });
          const answer = await proxy.send({
            method: request.method,
            user: `user:${account}`,
            url,
            headers: request.headers,
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
            client,
          });
          reply.code(answer.status).headers({ 'cache-control': 'no-store', ...answer.headers });
          if (answer.body === null) return reply.send();
          if (answer.body instanceof Readable)
            answer.body.on('error', (error) => {
              if (error instanceof ResponseTooLarge)
                request.log.warn(
                  { event: 'proxy_response_too_large', cap: error.cap },
                  'a proxied answer passed the size limit and was cut off',
                );
            });
          return reply.send(answer.body);
        } catch (error) {
          return fail(request, reply, error);
        }
      },
    });
  });
}

/** The raw (still percent-encoded) Web API path and query of a proxy request's URL. */
function splitProxyUrl(url: string): { rawPath: string; rawQuery: string | undefined } {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const marker = path.indexOf('/spotify/', '/api/v1/users/'.length);
  return {
    rawPath: path.slice(marker + '/spotify/'.length),
    rawQuery: queryAt === -1 ? undefined : url.slice(queryAt + 1),
  };
}
