import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorState } from '../state.js';
import type { AccessTokenInfo, AppMode, EmulatorUser } from '../types.js';
import { SPEC_OPERATIONS } from './operations.js';
import type { SpecOperation, SpecParameter } from './spec.js';

/**
 * What a Web API handler sees and returns. Adding an endpoint is one handler plus one `endpoint({...})`
 * entry in the resource's file (web-api/catalogue.ts, library.ts, …); the pipeline (pipeline.ts) does
 * routing, counting, faults, auth, the allowlist, scopes, mode rules and query validation before it.
 */

/** A Web API error in Spotify's shape: `{"error":{"status","message"[,"reason"]}}`, or a captured raw body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    /** null: the body has no message at all (the 2024 audio-features 403). */
    readonly apiMessage: string | null,
    readonly options: {
      reason?: string;
      /** A captured body sent byte for byte (Spotify's odd-spaced 403s). */
      raw?: string;
      contentType?: string;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(apiMessage ?? `HTTP ${status}`);
  }
}

/** An explicit response; a handler returning plain data gets the spec's success status with it as JSON. */
export class ApiReply {
  constructor(
    readonly status: number,
    /** undefined: no body. string: sent as is (with contentType). Anything else: JSON. */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    readonly contentType = 'application/json; charset=utf-8',
  ) {}
}

export function noContent(): ApiReply {
  return new ApiReply(204, undefined);
}

export function reply(status: number, body?: unknown, headers: Record<string, string> = {}): ApiReply {
  return new ApiReply(status, body, headers);
}

export function textReply(status: number, body: string, contentType = 'text/plain'): ApiReply {
  return new ApiReply(status, body, {}, contentType);
}

/** The calling app as the pipeline resolved it from the token. */
export interface ApiApp {
  clientId: string;
  mode: AppMode;
  /** Older client ids whose 2026 removals were postponed (WEB-API-2026.md §1). */
  legacyEndpoints: boolean;
  /** The owner has Premium (EmulatorApp.ownerPremium; default true). */
  ownerPremium: boolean;
}

/** Query parameters after spec validation: defaults applied, integers and booleans converted. */
export class ApiQuery {
  constructor(private readonly values: ReadonlyMap<string, string | number | boolean | readonly string[]>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    return value === undefined ? undefined : String(value);
  }

  int(name: string): number | undefined {
    const value = this.values.get(name);
    return typeof value === 'number' ? value : undefined;
  }

  bool(name: string): boolean | undefined {
    const value = this.values.get(name);
    return typeof value === 'boolean' ? value : undefined;
  }

  list(name: string): readonly string[] {
    const value = this.values.get(name);
    if (value === undefined) return [];
    return Array.isArray(value) ? value : String(value).split(',');
  }

  /** Only the parameters the client sent, for building next/previous links. */
  raw(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of this.values) out[key] = Array.isArray(value) ? value.join(',') : String(value);
    return out;
  }
}

export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  state: EmulatorState;
  operation: SpecOperation;
  token: AccessTokenInfo;
  /** Set for user tokens; undefined for app (client-credentials) tokens. */
  user: EmulatorUser | undefined;
  app: ApiApp;
  mode: AppMode;
  /** Path parameters by the spec's names (`id`, `playlist_id`, …), URL-decoded. */
  path: Readonly<Record<string, string>>;
  query: ApiQuery;
  /** The request body parsed as JSON; undefined when empty. Invalid JSON never reaches a handler. */
  body: unknown;
  /** The raw request body (image uploads are base64 text, not JSON). */
  rawBody: Buffer;
  /** http://host:port of this request (from its Host header), for absolute links. */
  origin: string;
  /** The emulator's clock (ms), which the control API can move. */
  now(): number;
}

export type Handler = (ctx: ApiContext) => unknown | Promise<unknown>;

/** How a removed endpoint answers a development-mode app (WEB-API-2026.md summary table). */
export interface Removal {
  /** '2024': gone for every dev-mode app. '2026': gone unless the app has `legacy_endpoints`. */
  era: '2024' | '2026';
  error: ApiError;
}

export interface EndpointDef {
  operationId: string;
  handler: Handler;
  /** Needs a user token (app tokens get 403 "Insufficient client scope"). Default: path under /me. */
  user?: boolean;
  /**
   * Any one of these scopes is enough; [] = none. Default: the spec's `security` list. Override where
   * Spotify is laxer than its spec (GET /me works with any user token, FACTS §7).
   */
  scopes?: readonly string[];
  removed?: Removal;
  /** A trailing slash reaches this route (default true; WEB-API-2026.md §2). */
  trailingSlash?: boolean;
  /** Parameter bounds that differ for extended-quota apps (e.g. the pre-2026 search limits). */
  extended?: Readonly<Record<string, Partial<SpecParameter>>>;
  /** Spotify's message for a missing required parameter, where it is not "Missing required field: NAME". */
  missing?: Readonly<Record<string, string>>;
  /** Spotify's message for an invalid parameter value, where it is not "Invalid NAME". */
  invalid?: Readonly<Record<string, string>>;
  /** Request body cap in bytes (default 64 KiB). */
  bodyLimit?: number;
  /** The request-counter and api-faults name, when it must differ from /v1 + the spec path. */
  counterPattern?: string;
}

export interface Endpoint extends Required<Pick<EndpointDef, 'operationId' | 'handler' | 'trailingSlash'>> {
  operation: SpecOperation;
  user: boolean;
  scopes: readonly string[];
  removed: Removal | undefined;
  /** Parameters per mode, spec values with the mode's overrides applied. */
  parameters: Readonly<Record<AppMode, readonly SpecParameter[]>>;
  missing: Readonly<Record<string, string>>;
  invalid: Readonly<Record<string, string>>;
  bodyLimit: number;
  /** The spec gives the operation a `fields` query parameter: the pipeline filters its answer (fields.ts). */
  fields: boolean;
  /** "GET /v1/tracks/{id}": the request-counter key; `pattern` is what an api-faults `path` may name. */
  key: string;
  pattern: string;
  /** /v1 + the spec path, which the router matches. */
  route: string;
}

const OPERATIONS = new Map(SPEC_OPERATIONS.map((op) => [op.operationId, op]));

/** One entry of the route table, checked against the spec when the module loads. */
export function endpoint(def: EndpointDef): Endpoint {
  const operation = OPERATIONS.get(def.operationId);
  if (!operation) throw new Error(`emulator: no operation ${def.operationId} in the spec`);
  const extended = def.extended ?? {};
  const route = `/v1${operation.path}`;
  const pattern = def.counterPattern ?? route;
  // Spotify refuses a negative offset everywhere, though most of the spec's offsets declare no minimum.
  const bounded = (p: SpecParameter): SpecParameter =>
    p.name === 'offset' && p.minimum === undefined ? { ...p, minimum: 0 } : p;
  return {
    operationId: def.operationId,
    handler: def.handler,
    trailingSlash: def.trailingSlash ?? true,
    operation,
    user: def.user ?? (operation.path === '/me' || operation.path.startsWith('/me/')),
    scopes: def.scopes ?? operation.scopes,
    removed: def.removed,
    parameters: {
      development: operation.parameters.map(bounded),
      extended: operation.parameters.map((p) => bounded({ ...p, ...extended[p.name] })),
    },
    missing: def.missing ?? {},
    invalid: def.invalid ?? {},
    bodyLimit: def.bodyLimit ?? 64 * 1024,
    fields: operation.parameters.some((p) => p.in === 'query' && p.name === 'fields'),
    key: `${operation.method} ${pattern}`,
    pattern,
    route,
  };
}

/** The user of a user-token request (the pipeline has already refused app tokens where `user` is set). */
export function requireUser(ctx: ApiContext): EmulatorUser {
  if (!ctx.user) throw new ApiError(403, 'Insufficient client scope');
  return ctx.user;
}

/** An offset page (WEB-API-2026.md §8) with absolute next/previous links on the emulator's origin. */
export function paging<T, J>(
  ctx: ApiContext,
  /** An array, or anything that hands out a page of itself the same way (a playlist's item columns). */
  all: { readonly length: number; slice(start: number, end: number): readonly T[] },
  toJson: (item: T) => J,
  limit: number,
  offset: number,
  extraQuery: Record<string, string> = {},
) {
  const path = ctx.url.pathname.endsWith('/') ? ctx.url.pathname.slice(0, -1) : ctx.url.pathname;
  const link = (o: number) =>
    `${ctx.origin}${path}?${new URLSearchParams({ ...extraQuery, offset: String(o), limit: String(limit) })}`;
  return {
    href: link(offset),
    items: all.slice(offset, offset + limit).map(toJson),
    limit,
    next: offset + limit < all.length ? link(offset + limit) : null,
    offset,
    previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    total: all.length,
  };
}

/** limit and offset as validated by the pipeline (spec defaults applied). */
export function pageParams(ctx: ApiContext, defaultLimit = 20): { limit: number; offset: number } {
  return { limit: ctx.query.int('limit') ?? defaultLimit, offset: ctx.query.int('offset') ?? 0 };
}
