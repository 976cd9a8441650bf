/**
 * The OpenAPI 3.1 document of the broker API, served at `GET /api/v1/openapi.json`. It is the source of the
 * typed client's types (`npm run generate:broker-client`), and the tests validate every real response
 * against it, so it cannot drift from what the routes do.
 */
import { BROKER_ERRORS } from './errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './grants.js';
import { DEFAULT_PROXY_LIMITS } from './proxy.js';
import { WEBHOOK_SCHEMAS, webhooksDocument } from './webhooks/openapi.js';

const json = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const dateTime = { type: 'string', format: 'date-time' };

const codesFor = (...codes: (keyof typeof BROKER_ERRORS | string)[]) =>
  codes.map((code) => `\`${code}\``).join(', ');

/** Responses every authenticated route can give. */
const COMMON_ERRORS = {
  '401': response('Unauthorized'),
  '421': response('WrongHost'),
  '429': response('RateLimited'),
  '500': response('ServerError'),
  '503': response('Unavailable'),
};

const USER_ERRORS = {
  '400': response('BadRequest'),
  ...COMMON_ERRORS,
  '403': response('Forbidden'),
  '404': response('UserNotFound'),
};

const errorCodeTable = Object.entries(BROKER_ERRORS)
  .map(([code, row]) => `| \`${code}\` | ${row.status} | ${row.meaning} |`)
  .join('\n');

export function buildOpenApiDocument(options: { serverUrl?: string } = {}) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'spotauth token broker',
      version: '1.0.0',
      summary: 'Valid Spotify access tokens and a Web API proxy for backend services, by service key.',
      description: `Every route but this document needs \`Authorization: Bearer <key>\`: a service key from \`spotauth keys create\` (\`sk_<id>_<secret>\`, with permissions) or one of SPOTAUTH_BROKER_KEYS (full access). Failed key attempts are rate limited per client (429).

Every error is JSON: \`{"error": "<stable code>", "message": "…", "code": "<SpotauthError code, when there is one>"}\`, sometimes with more fields. The broker's own codes:

| error | status | meaning |
|---|---|---|
${errorCodeTable}

Other codes come from spotauth's one error table (e.g. \`rate_limited\`, \`spotify_unavailable\`, \`store_unavailable\`, \`store_error\`) or the server (\`too_large\`, \`not_found\`, \`method_not_allowed\`, \`uri_too_long\`).

Key permissions: \`users\` — which Spotify accounts the key may see (others: 403 \`user_forbidden\`, and listings leave them out); \`scopes\` — scopes the service needs: a token is handed out only for a grant holding all of them (403 \`grant_missing_scope\`), and the proxy refuses endpoints needing none of them (403 \`scope_forbidden\`); \`proxy\` — may use the Web API proxy (403 \`proxy_forbidden\`).`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ serviceKey: [] }],
    paths: {
      '/api/v1/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document (no key needed)',
          security: [],
          responses: {
            '200': { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) },
          },
        },
      },
      '/api/v1/users': {
        get: {
          operationId: 'listUsers',
          summary: 'The grants this key may see, filtered, one page at a time',
          description:
            'Ordered by account id. Follow `next_cursor` (pass it as `cursor`, with the same filters) until it is null.',
          parameters: [
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string', enum: ['active', 'reauth_required'] },
            },
            {
              name: 'expiring_within',
              in: 'query',
              description:
                "Only active grants whose refresh token dies within this many days (Spotify's 6-month deadline): prompt these users to log in again.",
              schema: { type: 'integer', minimum: 0, maximum: 3650 },
            },
            {
              name: 'scope',
              in: 'query',
              description: 'Only grants holding all of these scopes (comma or space separated).',
              schema: { type: 'string' },
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE },
            },
            {
              name: 'cursor',
              in: 'query',
              description: 'The `next_cursor` of the previous page (opaque).',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': { description: 'One page of grants.', content: json(ref('UserList')) },
            '400': response('BadRequest'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/api/v1/users/{id}': {
        parameters: [{ $ref: '#/components/parameters/UserId' }],
        get: {
          operationId: 'getUser',
          summary: "One grant's status, scopes and deadlines",
          responses: {
            '200': { description: 'The grant.', content: json(ref('User')) },
            ...USER_ERRORS,
          },
        },
        delete: {
          operationId: 'deleteUser',
          summary: "Unlink: delete the grant and its tokens, and end the user's sessions",
          responses: {
            '204': { description: 'Deleted.' },
            ...USER_ERRORS,
          },
        },
      },
      '/api/v1/users/{id}/token': {
        parameters: [{ $ref: '#/components/parameters/UserId' }],
        get: {
          operationId: 'getUserToken',
          summary: 'A valid access token for the user (refreshed as needed), its expiry and its real scopes',
          responses: {
            '200': { description: 'The token. Never a refresh token.', content: json(ref('Token')) },
            ...USER_ERRORS,
            '403': {
              description: `${codesFor('user_forbidden', 'grant_missing_scope')}. With \`grant_missing_scope\`, \`missing_scopes\` lists what the grant lacks and \`login_url\` asks the user for it.`,
              content: json(ref('Error')),
            },
            '409': response('ReauthRequired'),
          },
        },
      },
      '/api/v1/users/{id}/spotify/{path}': {
        parameters: [
          { $ref: '#/components/parameters/UserId' },
          {
            name: 'path',
            in: 'path',
            required: true,
            description:
              'A Web API path relative to its base, e.g. `me/top/tracks` (it may contain slashes), and any query string. Refused with 400 `invalid_proxy_path`, before anything is sent: absolute URLs, `.`/`..` segments (raw or percent-encoded), encoded slashes or backslashes, empty segments.',
            schema: { type: 'string' },
          },
        ],
        ...Object.fromEntries(
          ['get', 'post', 'put', 'delete', 'patch'].map((method) => [
            method,
            {
              operationId: `proxy${method.charAt(0).toUpperCase()}${method.slice(1)}`,
              summary: `${method.toUpperCase()} a Web API endpoint with the user's token`,
              description: `Needs the \`proxy\` permission. Spotify's status, body, Content-Type, Retry-After and ETag are passed through (\`x-spotauth-source: spotify\`); the statuses listed here are the broker's own answers (\`x-spotauth-source: broker\`). A 401 from Spotify is retried once after a refresh; a 429 is passed through and, until its Retry-After has passed, answered by the broker without calling Spotify; a 5xx on an idempotent method is retried with backoff. Request bodies up to ${DEFAULT_PROXY_LIMITS.maxRequestBytes} bytes (buffered), response bodies up to ${DEFAULT_PROXY_LIMITS.maxResponseBytes} bytes (streamed), ${DEFAULT_PROXY_LIMITS.timeoutMs / 1000} s per attempt.`,
              ...(method === 'get' || method === 'delete'
                ? {}
                : {
                    requestBody: {
                      required: false,
                      content: { '*/*': { schema: { type: 'string', contentMediaType: '*/*' } } },
                    },
                  }),
              responses: {
                '400': {
                  description: codesFor('invalid_proxy_path', 'bad_request'),
                  headers: { 'x-spotauth-source': { $ref: '#/components/headers/Source' } },
                  content: json(ref('Error')),
                },
                ...COMMON_ERRORS,
                '403': {
                  description: codesFor('user_forbidden', 'proxy_forbidden', 'scope_forbidden'),
                  content: json(ref('Error')),
                },
                '404': response('UserNotFound'),
                '409': response('ReauthRequired'),
                '413': response('TooLarge'),
                '502': {
                  description: codesFor('upstream_too_large', 'spotify_error'),
                  content: json(ref('Error')),
                },
                default: {
                  description: "Spotify's answer, passed through (`x-spotauth-source: spotify`).",
                  headers: {
                    'x-spotauth-source': { $ref: '#/components/headers/Source' },
                    'retry-after': { $ref: '#/components/headers/RetryAfter' },
                  },
                  content: { '*/*': { schema: {} } },
                },
              },
            },
          ]),
        ),
      },
      '/api/v1/app/token': {
        get: {
          operationId: 'getAppToken',
          summary: 'The app (client-credentials) token, for catalogue calls',
          responses: {
            '200': { description: 'The app token.', content: json(ref('AppToken')) },
            ...COMMON_ERRORS,
          },
        },
      },
      '/api/v1/app-token': {
        get: {
          operationId: 'getAppTokenOld',
          summary: 'Old name of GET /api/v1/app/token',
          deprecated: true,
          responses: {
            '200': { description: 'The app token.', content: json(ref('AppToken')) },
            ...COMMON_ERRORS,
          },
        },
      },
    },
    webhooks: webhooksDocument(),
    components: {
      securitySchemes: {
        serviceKey: {
          type: 'http',
          scheme: 'bearer',
          description: '`sk_<id>_<secret>` from `spotauth keys create`, or one of SPOTAUTH_BROKER_KEYS.',
        },
      },
      parameters: {
        UserId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The Spotify account id (`account` in the user list).',
          schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$' },
        },
      },
      headers: {
        RetryAfter: { description: 'Seconds to wait.', schema: { type: 'string' } },
        Source: {
          description: '`spotify`: passed through from the Web API; `broker`: the broker answered itself.',
          schema: { type: 'string', enum: ['spotify', 'broker'] },
        },
      },
      responses: {
        BadRequest: { description: codesFor('bad_request'), content: json(ref('Error')) },
        Unauthorized: {
          description: `${codesFor('unauthorized')}: no key, or an unknown, wrong, revoked or expired one.`,
          headers: { 'www-authenticate': { schema: { type: 'string' } } },
          content: json(ref('Error')),
        },
        Forbidden: { description: codesFor('user_forbidden'), content: json(ref('Error')) },
        UserNotFound: {
          description: `${codesFor('user_not_found')}: no grant is stored for this account.`,
          content: json(ref('Error')),
        },
        ReauthRequired: {
          description: 'The grant needs re-consent: send the user to `login_url`.',
          content: json(ref('ReauthRequired')),
        },
        TooLarge: { description: codesFor('too_large'), content: json(ref('Error')) },
        WrongHost: {
          description: `${codesFor('wrong_host')}: the request named another host than the server's public URL (SPOTAUTH_PUBLIC_URL).`,
          content: json(ref('Error')),
        },
        RateLimited: {
          description: `${codesFor('rate_limited')}: too many failed key attempts from this client, or Spotify is rate limiting.`,
          headers: { 'retry-after': { $ref: '#/components/headers/RetryAfter' } },
          content: json(ref('Error')),
        },
        ServerError: {
          description: `${codesFor('store_error', 'internal_error')}: the detail is in the server's log.`,
          content: json(ref('Error')),
        },
        Unavailable: {
          description: `${codesFor('spotify_unavailable', 'store_unavailable', 'store_busy', 'busy')}: try again later.`,
          headers: { 'retry-after': { $ref: '#/components/headers/RetryAfter' } },
          content: json(ref('Error')),
        },
      },
      schemas: {
        ...WEBHOOK_SCHEMAS,
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', pattern: '^[a-z][a-z0-9_]*$', description: 'Stable code.' },
            message: { type: 'string', description: 'For a person; may change.' },
            code: { type: 'string', description: 'The SpotauthError code behind it, when there is one.' },
            missing_scopes: { type: 'array', items: { type: 'string' } },
            required_scopes: { type: 'array', items: { type: 'string' } },
            login_url: { type: 'string', format: 'uri' },
          },
        },
        BrokerErrorCode: {
          type: 'string',
          enum: Object.keys(BROKER_ERRORS),
          description: "The broker's own error codes (see the table above).",
        },
        ReauthRequired: {
          type: 'object',
          required: ['error', 'message', 'reason', 'login_url'],
          properties: {
            error: { type: 'string', const: 'reauth_required' },
            message: { type: 'string' },
            code: { type: 'string' },
            reason: {
              type: 'string',
              enum: ['revoked', 'expired', 'invalid_client'],
              description:
                "`revoked`: the user removed the app on Spotify; `expired`: the 6-month refresh-token lifetime passed; `invalid_client`: Spotify rejected the app's credentials.",
            },
            login_url: {
              type: 'string',
              format: 'uri',
              description: "The server's login page; send the user there.",
            },
          },
        },
        User: {
          type: 'object',
          additionalProperties: false,
          required: [
            'account',
            'display_name',
            'status',
            'reauth_reason',
            'reauth_at',
            'scope',
            'authorized_at',
            'refresh_token_expires_at',
            'access_token_expires_at',
          ],
          properties: {
            account: { type: 'string', description: 'The Spotify account id.' },
            display_name: nullable('string'),
            status: { type: 'string', enum: ['active', 'reauth_required'] },
            reauth_reason: { type: ['string', 'null'], enum: ['revoked', 'expired', 'invalid_client', null] },
            reauth_at: nullable('string', { format: 'date-time' }),
            scope: { type: 'string', description: 'Granted scopes, space separated.' },
            authorized_at: { ...dateTime, description: "The user's original consent." },
            refresh_token_expires_at: nullable('string', {
              format: 'date-time',
              description: 'After this the user must log in again (6 months after consent).',
            }),
            access_token_expires_at: dateTime,
          },
        },
        UserList: {
          type: 'object',
          additionalProperties: false,
          required: ['users', 'next_cursor', 'unreadable'],
          properties: {
            users: { type: 'array', items: ref('User') },
            next_cursor: nullable('string', { description: 'Pass as `cursor` for the next page.' }),
            unreadable: {
              type: 'object',
              additionalProperties: false,
              required: ['count', 'keys'],
              description:
                'Stored grants (this key may see) that cannot be read, left out of `users`: those in the range of accounts this page read (from the cursor to a little past its last user).',
              properties: {
                count: { type: 'integer', minimum: 0 },
                keys: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
        Token: {
          type: 'object',
          additionalProperties: false,
          required: ['access_token', 'token_type', 'expires_at', 'expires_in', 'scope'],
          properties: {
            access_token: { type: 'string' },
            token_type: { type: 'string', const: 'Bearer' },
            expires_at: dateTime,
            expires_in: { type: 'integer', minimum: 0, description: 'Seconds.' },
            scope: { type: 'string', description: "The token's real scopes, space separated." },
          },
        },
        AppToken: {
          type: 'object',
          additionalProperties: false,
          required: ['access_token', 'token_type', 'expires_at', 'expires_in'],
          properties: {
            access_token: { type: 'string' },
            token_type: { type: 'string', const: 'Bearer' },
            expires_at: dateTime,
            expires_in: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  };
}
