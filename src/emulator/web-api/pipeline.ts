import { applyApiFault, sendNotAllowlisted } from '../api-faults.js';
import { readBody, send } from '../http.js';
import type { Route, RouteContext } from '../routes.js';
import type { AccessTokenInfo, AppMode } from '../types.js';
import { type ApiApp, type ApiContext, ApiError, ApiQuery, ApiReply, type Endpoint } from './endpoint.js';
import { applyFields, type FieldFilter, FieldsSyntaxError, parseFields } from './fields.js';
import { stringify } from './json-fragments.js';
import { invalidLimit, ownerNotPremium } from './modes.js';
import type { SpecParameter } from './spec.js';

/**
 * The one place a /v1 request goes through, in this order:
 *   route (unknown → 404 "Service not found"; wrong method → 405)
 *   → request counter (stats.api_requests["METHOD /v1/pattern"])
 *   → injected faults (api-faults.ts)
 *   → Authorization header and token (400 / 401 with WWW-Authenticate)
 *   → the app's owner without Premium (development mode: 403)
 *   → hooks.quota (no-op by default: the place for per-app rate limits and quotas)
 *   → dev-mode allowlist (plain-text 403)
 *   → user-vs-app token, scopes (403 "Insufficient client scope")
 *   → mode rules (removed endpoints for development-mode apps)
 *   → query validation from the spec (and the `fields` filter's syntax), request body (JSON)
 *   → handler → `fields` filter → response.
 * Route matchers are compiled once; nothing here reads the spec at request time.
 */

export const DEFAULT_APP_MODE: AppMode = 'development';

/** What a quota check sees: enough to key budgets by app and operation. */
export interface QuotaRequest {
  state: RouteContext['state'];
  token: AccessTokenInfo;
  app: ApiApp;
  endpoint: Endpoint;
}

export interface WebApiHooks {
  /** Return an error (e.g. 429 with Retry-After) to refuse the request, or undefined to let it through. */
  quota?: (request: QuotaRequest) => ApiError | ApiReply | undefined;
}

const API_HEADERS = { 'Cache-Control': 'private, max-age=0' };
const JSON_TYPE = 'application/json; charset=utf-8';

function sendError(ctx: RouteContext, error: ApiError): void {
  const { status, apiMessage, options } = error;
  const body =
    options.raw ??
    JSON.stringify({
      error: {
        status,
        ...(apiMessage !== null ? { message: apiMessage } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      },
    });
  send(ctx.res, status, body, {
    'Content-Type': options.contentType ?? JSON_TYPE,
    ...API_HEADERS,
    ...options.headers,
  });
}

function sendReply(ctx: RouteContext, result: ApiReply): void {
  const { status, body, headers, contentType } = result;
  if (body === undefined) {
    if (status === 204 || status === 304) {
      if (!ctx.res.headersSent) {
        ctx.res.writeHead(status, { ...API_HEADERS, ...headers });
        ctx.res.end();
      }
      return;
    }
    send(ctx.res, status, '', { ...API_HEADERS, ...headers });
    return;
  }
  const text = typeof body === 'string' ? body : stringify(body);
  send(ctx.res, status, text, {
    'Content-Type': typeof body === 'string' ? contentType : JSON_TYPE,
    ...API_HEADERS,
    ...headers,
  });
}

/**
 * The one body message of 2026 for a missing, bogus or expired token (WEB-API-2026.md §4 "401s (2026)":
 * ITST 2026-09; jwilsson/spotify-web-api-php#288) [3P]. The older per-problem messages, which the header's
 * error_description still carries, are the `legacy` variant (web-api/variants.ts).
 */
export const UNAUTHORIZED_2026 = 'Missing/invalid/expired access token';

/** RFC 6750 §3 challenge on every 401 (WEB-API-2026.md §4). */
function unauthorized(ctx: RouteContext, error: 'missing_token' | 'invalid_token', description: string) {
  const legacy = ctx.state.config.apiVariants.unauthorizedMessages === 'legacy';
  return new ApiError(401, legacy ? description : UNAUTHORIZED_2026, {
    headers: {
      'WWW-Authenticate': `Bearer realm="spotify", error="${error}", error_description="${description}"`,
    },
  });
}

function authenticate(ctx: RouteContext): AccessTokenInfo {
  const header = ctx.req.headers.authorization;
  // An empty bearer ("Bearer" and nothing, or spaces) is answered as no token at all (WEB-API-2026.md §4,
  // jwilsson/spotify-web-api-php#288); which error= its challenge names is not captured: missing_token.
  if (header === undefined || /^\s*(Bearer\s*)?$/i.test(header)) {
    throw unauthorized(ctx, 'missing_token', 'No token provided');
  }
  const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
  if (!match?.[1]) throw new ApiError(400, 'Only valid bearer authentication supported');
  const { problem, info } = ctx.state.checkAccessToken(match[1]);
  if (!info || (info.userId !== null && !ctx.state.users.has(info.userId))) {
    throw unauthorized(
      ctx,
      'invalid_token',
      problem === 'expired' ? 'The access token expired' : 'Invalid access token',
    );
  }
  return info;
}

function appOf(ctx: RouteContext, clientId: string): ApiApp {
  const app = ctx.state.apps.get(clientId);
  return {
    clientId,
    mode: app?.mode ?? DEFAULT_APP_MODE,
    legacyEndpoints: app?.legacyEndpoints ?? false,
    ownerPremium: app?.ownerPremium ?? true,
  };
}

const INTEGER = /^-?\d{1,15}$/;
const NUMBER = /^-?\d{1,15}(?:\.\d{1,15})?$/;

function parseQuery(endpoint: Endpoint, mode: AppMode, url: URL): ApiQuery {
  const values = new Map<string, string | number | boolean | readonly string[]>();
  for (const p of endpoint.parameters[mode]) {
    if (p.in !== 'query') continue;
    const raw = url.searchParams.get(p.name);
    if (raw === null || raw === '') {
      if (p.required && !p.inBody) {
        throw new ApiError(400, endpoint.missing[p.name] ?? `Missing required field: ${p.name}`);
      }
      if (p.default !== undefined) values.set(p.name, p.default);
      continue;
    }
    values.set(p.name, parseValue(endpoint, p, raw));
  }
  return new ApiQuery(values);
}

/** The `fields` filter of an operation that takes one; malformed → 400 "Invalid fields" [UNCONF: wording]. */
function fieldsFilter(endpoint: Endpoint, query: ApiQuery): FieldFilter | undefined {
  const text = endpoint.fields ? query.string('fields') : undefined;
  if (text === undefined) return undefined;
  try {
    return parseFields(text);
  } catch (error) {
    if (error instanceof FieldsSyntaxError) throw new ApiError(400, 'Invalid fields');
    throw error;
  }
}

function invalid(endpoint: Endpoint, p: SpecParameter): ApiError {
  if (p.name === 'limit' && endpoint.operationId === 'search') return invalidLimit();
  return new ApiError(400, endpoint.invalid[p.name] ?? `Invalid ${p.name}`);
}

function parseValue(endpoint: Endpoint, p: SpecParameter, raw: string): string | number | boolean | string[] {
  switch (p.type) {
    case 'integer':
    case 'number': {
      if (!(p.type === 'integer' ? INTEGER : NUMBER).test(raw)) throw invalid(endpoint, p);
      const value = Number(raw);
      if ((p.minimum !== undefined && value < p.minimum) || (p.maximum !== undefined && value > p.maximum)) {
        throw invalid(endpoint, p);
      }
      return value;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw invalid(endpoint, p);
      return raw === 'true';
    case 'array': {
      const items = [...new Set(raw.split(','))];
      if (p.enum && !items.every((item) => p.enum?.includes(item))) throw invalid(endpoint, p);
      return items;
    }
    default:
      if (p.enum && !p.enum.includes(raw)) throw invalid(endpoint, p);
      return raw;
  }
}

async function parseBody(ctx: RouteContext, endpoint: Endpoint): Promise<{ raw: Buffer; json: unknown }> {
  const method = ctx.req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return { raw: Buffer.alloc(0), json: undefined };
  const body = await readBody(ctx.req, endpoint.bodyLimit);
  if (!body.ok) {
    throw body.reason === 'too_large'
      ? new ApiError(413, 'Request entity too large')
      : new ApiError(400, 'Request aborted');
  }
  const text = body.body.toString('utf8').trim();
  // Image uploads are base64 text; only bodies that look like JSON are parsed.
  if (text === '' || endpoint.operationId === 'upload-custom-playlist-cover') {
    return { raw: body.body, json: undefined };
  }
  try {
    return { raw: body.body, json: JSON.parse(text) };
  } catch {
    // Spotify's wording for a body that does not parse [UNCONF]: "Error parsing json".
    throw new ApiError(400, 'Error parsing json');
  }
}

const HOST_PATTERN = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The origin the client used (Host header), so links and images work from localhost as well as 127.0.0.1. */
export function requestOrigin(ctx: RouteContext): string {
  const host = ctx.req.headers.host;
  return host && HOST_PATTERN.test(host) ? `http://${host}` : ctx.baseUrl;
}

/** Runs one matched endpoint through the pipeline. */
export async function runEndpoint(
  ctx: RouteContext,
  endpoint: Endpoint,
  pathValues: Record<string, string>,
  hooks: WebApiHooks,
): Promise<void> {
  const { state, res } = ctx;
  state.countApiRequest(endpoint.key);
  if (await applyApiFault(state, res, ctx.url.pathname, endpoint.pattern)) return;
  try {
    const token = authenticate(ctx);
    const app = appOf(ctx, token.clientId);
    // The whole app is refused, whoever's token it is (user or app token), before anything is counted
    // against its quotas [UNCONF: order]. The Premium rule was not postponed for older client ids (§1).
    if (app.mode === 'development' && !app.ownerPremium) {
      throw ownerNotPremium(state.config.apiVariants.ownerPremiumBody);
    }
    const refused = hooks.quota?.({ state, token, app, endpoint });
    if (refused instanceof ApiError) throw refused;
    if (refused instanceof ApiReply) return sendReply(ctx, refused);
    const allowlist = state.config.allowlist;
    if (token.userId !== null && allowlist !== null && !allowlist.includes(token.userId)) {
      return sendNotAllowlisted(res);
    }
    // App tokens carry no user and no scopes: Spotify answers user endpoints with the scope 403
    // (spotify/web-api-examples#44, 2025).
    if (endpoint.user && token.userId === null) throw new ApiError(403, 'Insufficient client scope');
    if (endpoint.scopes.length > 0 && !endpoint.scopes.some((s) => token.scopes.includes(s))) {
      throw new ApiError(403, 'Insufficient client scope');
    }
    const removed = endpoint.removed;
    if (removed && app.mode === 'development' && !(removed.era === '2026' && app.legacyEndpoints)) {
      throw removed.error;
    }
    const query = parseQuery(endpoint, app.mode, ctx.url);
    const fields = fieldsFilter(endpoint, query);
    const body = await parseBody(ctx, endpoint);
    const apiContext: ApiContext = {
      req: ctx.req,
      res,
      url: ctx.url,
      state,
      operation: endpoint.operation,
      token,
      user: token.userId === null ? undefined : state.users.get(token.userId),
      app,
      mode: app.mode,
      path: pathValues,
      query,
      body: body.json,
      rawBody: body.raw,
      origin: requestOrigin(ctx),
      now: () => state.now(),
    };
    const result = await endpoint.handler(apiContext);
    if (res.headersSent) return;
    if (result instanceof ApiReply) return sendReply(ctx, result);
    const data = fields && result !== null ? applyFields(result, fields) : result;
    sendReply(ctx, new ApiReply(endpoint.operation.success, data === null ? undefined : data));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    sendError(ctx, error);
  }
}

interface CompiledRoute {
  endpoint: Endpoint;
  /** Literal segments, or null where the spec has a {parameter}. */
  segments: readonly (string | null)[];
  names: readonly string[];
  literals: number;
}

function compile(endpoint: Endpoint): CompiledRoute {
  const parts = endpoint.route.split('/').slice(1);
  const names: string[] = [];
  const segments = parts.map((part) => {
    const m = /^\{(.+)\}$/.exec(part);
    if (!m?.[1]) return part;
    names.push(m[1]);
    return null;
  });
  return { endpoint, segments, names, literals: segments.filter((s) => s !== null).length };
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Builds the /v1 dispatcher: routes indexed by segment count, literal-heavy routes first. */
export function createWebApiRoute(endpoints: readonly Endpoint[], hooks: WebApiHooks = {}): Route {
  const bySize = new Map<number, CompiledRoute[]>();
  const seen = new Set<string>();
  for (const endpoint of endpoints) {
    const id = `${endpoint.operation.method} ${endpoint.route}`;
    if (seen.has(id)) throw new Error(`emulator: two endpoints for ${id}`);
    seen.add(id);
    const route = compile(endpoint);
    const list = bySize.get(route.segments.length) ?? [];
    list.push(route);
    bySize.set(route.segments.length, list);
  }
  for (const list of bySize.values()) list.sort((a, b) => b.literals - a.literals);

  const handler = async (ctx: RouteContext): Promise<void> => {
    const pathname = ctx.url.pathname;
    const slash = pathname.length > 1 && pathname.endsWith('/');
    const parts = (slash ? pathname.slice(0, -1) : pathname).split('/').slice(1);
    const method = ctx.req.method === 'HEAD' ? 'GET' : (ctx.req.method ?? 'GET');
    const allowed: string[] = [];
    for (const route of bySize.get(parts.length) ?? []) {
      const values: Record<string, string> = {};
      let ok = true;
      let n = 0;
      for (let i = 0; i < parts.length; i++) {
        const expected = route.segments[i];
        const actual = parts[i] ?? '';
        if (expected === null) {
          const value = actual === '' ? null : decode(actual);
          if (value === null) {
            ok = false;
            break;
          }
          values[route.names[n++] ?? ''] = value;
        } else if (expected !== actual) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (slash && !route.endpoint.trailingSlash) continue;
      if (route.endpoint.operation.method !== method) {
        allowed.push(route.endpoint.operation.method);
        continue;
      }
      return runEndpoint(ctx, route.endpoint, values, hooks);
    }
    if (allowed.length > 0) {
      ctx.res.setHeader('Allow', [...new Set(allowed)].join(', '));
      return sendError(ctx, new ApiError(405, 'Method not allowed'));
    }
    // Unknown path (WEB-API-2026.md §2): 404 "Service not found", before any auth.
    sendError(ctx, new ApiError(404, 'Service not found'));
  };
  return { method: 'ANY', path: /^\/v1(?:\/|$)/, handler };
}
