import { Catalogue } from './catalogue.js';
import type { CorsConfig } from './cors.js';
import { InvalidInput } from './errors.js';
import { QuotaLedger } from './quotas.js';
import { randomToken, tokenKey } from './random.js';
import { registrationProblem } from './redirect-uri.js';
import type { AccessTokenInfo, EmulatorApp, EmulatorUser, RefreshMode } from './types.js';
import { catalogueDefaults } from './user-state/defaults.js';
import type { PlayerConfig } from './user-state/player-config.js';
import { UserStates } from './user-state/store.js';
import type { ApiVariants } from './web-api/variants.js';

/** The emulator's settings once {@link createEmulatorState} has checked the options (lifetimes in seconds). */
export interface EmulatorConfig {
  accessTokenTtlSeconds: number;
  refreshMode: RefreshMode;
  refreshTokenLifetimeSeconds: number;
  authorizationCodeTtlSeconds: number;
  autoApprove: string | null;
  tokenPrefix: string;
  quiet: boolean;
  /**
   * /v1/me without country, email, explicit_content, followers and product: true or false forces it for
   * every app; null (default) follows the app's mode (development strips them, FACTS §7).
   */
  devModeProfile: boolean | null;
  /** User ids allowed to call /v1 (a dev-mode app's User Management list); null = everyone. */
  allowlist: string[] | null;
  cors: CorsConfig;
  player: PlayerConfig;
  /** Web API answers Spotify has given in more than one form (401 messages, the owner-Premium 403). */
  apiVariants: ApiVariants;
}

export interface AuthorizationCodeRecord {
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  /** When the user consented: the 6-month refresh-token lifetime counts from here (BRT). */
  authorizedAt: number;
  expiresAt: number;
  used: boolean;
  /** Set once exchanged, so a replay can revoke what the first exchange produced (RFC 6749 §4.1.2). */
  grantId: string | null;
}

export interface GrantRecord {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  authorizedAt: number;
  /** Exchanged with a client secret: refreshing then needs the secret too (REFR). */
  confidential: boolean;
  revoked: boolean;
}

export interface RefreshTokenRecord {
  grantId: string;
  /** 'rotated': replaced by a newer token in rotate mode; reuse gets "Refresh token revoked". */
  status: 'active' | 'rotated';
}

export interface AccessTokenRecord extends AccessTokenInfo {
  grantId: string | null;
  revoked: boolean;
}

export interface PendingAuthorization {
  id: string;
  csrf: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string | null;
  createdAt: number;
}

export const FAULT_KINDS = [
  'server_error',
  'error_transient',
  'rate_limit',
  'latency',
  'response_latency',
  'redirect',
  'bad_token_type',
  'bad_expires_in',
  'lowercase_bearer',
  'no_expires_in',
  'huge_body',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRecord {
  endpoint: 'token';
  kind: FaultKind;
  remaining: number;
  retryAfter: number;
  latencyMs: number;
  status: number;
  location: string | null;
}

export const API_FAULT_KINDS = ['rate_limit', 'server_error', 'latency', 'not_allowlisted'] as const;
export type ApiFaultKind = (typeof API_FAULT_KINDS)[number];

/** A fault injected into /v1 responses (POST /_emulator/api-faults). */
export interface ApiFaultRecord {
  kind: ApiFaultKind;
  remaining: number;
  /** Only requests to this pathname (e.g. /v1/me) or route pattern (e.g. /v1/tracks/{id}); null = all. */
  path: string | null;
  retryAfter: number;
  /** rate_limit: the body's `reason` (e.g. QUOTA_EXCEEDED); null = a plain rate limit. */
  reason: string | null;
  status: number;
  body: 'html' | 'json';
  latencyMs: number;
}

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'other'] as const;
export type CountedGrantType = (typeof GRANT_TYPES)[number];

function emptyGrantCounts(): Record<CountedGrantType, number> {
  return { authorization_code: 0, refresh_token: 0, client_credentials: 0, other: 0 };
}

export function emptyStats() {
  return {
    /** Every POST /api/token, successful or not, faulted or not, by grant_type ("other": missing/unknown). */
    token_requests: emptyGrantCounts(),
    token_requests_total: 0,
    token_requests_by_client: Object.create(null) as Record<string, Record<CountedGrantType, number>>,
    token_successes: 0,
    /** Error responses the emulator produced itself, by OAuth error code (faults are counted separately). */
    token_errors: Object.create(null) as Record<string, number>,
    token_faults: Object.create(null) as Record<string, number>,
    authorize_requests: 0,
    authorize_errors: 0,
    authorize_decisions: { agree: 0, cancel: 0 },
    codes_issued: 0,
    /** Hits on the target of the `redirect` fault: a client that follows token-endpoint redirects shows up here. */
    redirect_follows: 0,
    /** Every /v1 request that matched a route, by "METHOD /v1/pattern", including failures and faults. */
    api_requests: Object.create(null) as Record<string, number>,
    api_faults: Object.create(null) as Record<string, number>,
    /** OPTIONS requests answered on /v1 (api) and /api/token (token). */
    cors_preflights: { api: 0, token: 0 },
  };
}
/** Counters of what the emulator was asked (token requests, authorizations, faults, /v1 calls), for tests. */
export type EmulatorStats = ReturnType<typeof emptyStats>;

export const DEFAULT_MISSING_IDS: readonly string[] = [
  'track',
  'album',
  'artist',
  'show',
  'episode',
  'audiobook',
  'chapter',
  'playlist',
].map((type) => `${type}:0000000000000000000000`);

/** Caps on server-side records a hostile or runaway client could otherwise grow without bound. */
const MAX_PENDING = 1000;
const MAX_SESSIONS = 1000;
const PENDING_TTL_MS = 15 * 60 * 1000;

/**
 * Everything the emulator knows — apps, users, codes, grants, tokens (keyed by digest, never the token),
 * consents, faults, counters — and the clock it runs on. Tests reach it as `RunningEmulator.state`.
 */
export class EmulatorState {
  readonly apps = new Map<string, EmulatorApp>();
  readonly users = new Map<string, EmulatorUser>();
  /** All token maps are keyed by tokenKey(token) (a SHA-256 digest), never the token itself. */
  readonly codes = new Map<string, AuthorizationCodeRecord>();
  readonly grants = new Map<string, GrantRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  /** `${clientId}\n${userId}` → scopes the user has approved for that app (drives show_dialog=false). */
  readonly consents = new Map<string, Set<string>>();
  /** Emulator "logged in" cookie (hashed) → user id. */
  readonly sessions = new Map<string, string>();
  readonly pending = new Map<string, PendingAuthorization>();
  faults: FaultRecord[] = [];
  /** Token requests held by a latency fault right now; calling one lets it go on at once. */
  readonly heldTokenRequests = new Set<() => void>();
  apiFaults: ApiFaultRecord[] = [];
  /**
   * Catalogue ids declared missing (404), as "type:id" (POST /_emulator/catalogue/missing). Every other
   * well-formed id resolves; the all-zero id of every type starts out missing, as a ready "unknown id".
   */
  readonly missingIds = new Set<string>(DEFAULT_MISSING_IDS);
  /** Seeded, loaded (--catalogue FILE) and synthetic catalogue entities. */
  readonly catalogue = new Catalogue();
  /** The emulator's start (rounded to the minute): "recently played" ends here, so cursors stay stable. */
  readonly epoch: number;
  stats: EmulatorStats = emptyStats();
  clockOffsetMs = 0;
  /** Per-app rate limits and daily quotas of /v1, on this clock (quotas.ts). */
  readonly quotas = new QuotaLedger(() => this.now());
  /** Users' libraries, playlists and players (src/emulator/user-state). */
  readonly userStates: UserStates;

  constructor(
    readonly config: EmulatorConfig,
    private readonly baseNow: () => number,
  ) {
    this.epoch = Math.floor(baseNow() / 60_000) * 60_000;
    this.userStates = new UserStates(catalogueDefaults(this.epoch, this.catalogue), () => this.users.keys());
  }

  /** The emulator's clock, epoch ms: the configured clock plus `clockOffsetMs` (moved by the control API). */
  now(): number {
    return this.baseNow() + this.clockOffsetMs;
  }

  /**
   * Registers (or replaces) an app, as the Developer Dashboard would.
   *
   * @throws {@link InvalidInput} for a bad client id or secret, or redirect URIs Spotify would refuse.
   */
  addApp(app: EmulatorApp): EmulatorApp {
    if (!app || typeof app.clientId !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(app.clientId)) {
      throw new InvalidInput('An app needs a client id of 1-128 letters, digits, "_", "." or "-".');
    }
    if (app.clientSecret !== undefined && (typeof app.clientSecret !== 'string' || app.clientSecret === '')) {
      throw new InvalidInput(`The client secret of ${app.clientId} must be a non-empty string.`);
    }
    if (!Array.isArray(app.redirectUris))
      throw new InvalidInput(`The app ${app.clientId} needs a redirectUris list.`);
    if (app.mode !== undefined && app.mode !== 'development' && app.mode !== 'extended') {
      throw new InvalidInput(`The mode of ${app.clientId} must be "development" or "extended".`);
    }
    if (app.legacyEndpoints !== undefined && typeof app.legacyEndpoints !== 'boolean') {
      throw new InvalidInput(`legacy_endpoints of ${app.clientId} must be a boolean.`);
    }
    if (app.ownerPremium !== undefined && typeof app.ownerPremium !== 'boolean') {
      throw new InvalidInput(`owner_premium of ${app.clientId} must be a boolean.`);
    }
    for (const uri of app.redirectUris) {
      const problem = registrationProblem(uri);
      if (problem) throw new InvalidInput(`Cannot register redirect URI ${JSON.stringify(uri)}: ${problem}.`);
    }
    const stored: EmulatorApp = {
      clientId: app.clientId,
      redirectUris: [...app.redirectUris],
      ...(app.clientSecret !== undefined ? { clientSecret: app.clientSecret } : {}),
      ...(typeof app.name === 'string' ? { name: app.name } : {}),
      ...(app.mode !== undefined ? { mode: app.mode } : {}),
      ...(app.legacyEndpoints !== undefined ? { legacyEndpoints: app.legacyEndpoints } : {}),
      ...(app.ownerPremium !== undefined ? { ownerPremium: app.ownerPremium } : {}),
    };
    this.apps.set(stored.clientId, stored);
    return stored;
  }

  /**
   * Adds (or replaces) a user.
   *
   * @throws {@link InvalidInput} for an id other than 1–64 letters, digits, `_`, `.` or `-`.
   */
  addUser(user: EmulatorUser): EmulatorUser {
    if (!user || typeof user.id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(user.id)) {
      throw new InvalidInput('A user needs an id of 1-64 letters, digits, "_", "." or "-".');
    }
    const stored: EmulatorUser = {
      ...user,
      displayName: typeof user.displayName === 'string' ? user.displayName : user.id,
      images: Array.isArray(user.images) ? user.images : [],
    };
    this.users.set(stored.id, stored);
    return stored;
  }

  /** A new single-use authorization code, valid for `authorizationCodeTtlSeconds` seconds. */
  issueCode(record: Omit<AuthorizationCodeRecord, 'expiresAt' | 'used' | 'grantId'>): string {
    const code = randomToken(`${this.config.tokenPrefix}AQ`, 48);
    this.codes.set(tokenKey(code), {
      ...record,
      expiresAt: this.now() + this.config.authorizationCodeTtlSeconds * 1000,
      used: false,
      grantId: null,
    });
    this.stats.codes_issued++;
    return code;
  }

  /** A new access token, valid for `accessTokenTtlSeconds` seconds (`userId` null: a client-credentials token). */
  issueAccessToken(
    clientId: string,
    userId: string | null,
    scopes: string[],
    grantId: string | null,
  ): string {
    const token = randomToken(`${this.config.tokenPrefix}BQ`, 48);
    this.accessTokens.set(tokenKey(token), {
      clientId,
      userId,
      scopes: [...scopes],
      expiresAt: this.now() + this.config.accessTokenTtlSeconds * 1000,
      grantId,
      revoked: false,
    });
    return token;
  }

  /** A new refresh token of a grant. */
  issueRefreshToken(grantId: string): string {
    const token = randomToken(`${this.config.tokenPrefix}AQ`, 48);
    this.refreshTokens.set(tokenKey(token), { grantId, status: 'active' });
    return token;
  }

  /** Records a new grant (a user's consent to an app), on which refresh tokens are issued. */
  createGrant(grant: Omit<GrantRecord, 'id' | 'revoked'>): GrantRecord {
    const record: GrantRecord = { ...grant, id: randomToken('grant_', 16), revoked: false };
    this.grants.set(record.id, record);
    return record;
  }

  /** The lookup a Web API slice needs: valid (unexpired, unrevoked) access tokens only. */
  lookupAccessToken(token: string): AccessTokenInfo | undefined {
    return this.checkAccessToken(token).info;
  }

  /**
   * A token's info when it works, else why not (for the Web API's distinct 401 messages): both from one digest
   * of the token, since hashing is a visible part of a /v1 request's cost.
   */
  checkAccessToken(
    token: string,
  ):
    | { problem: null; info: AccessTokenInfo }
    | { problem: 'unknown' | 'revoked' | 'expired'; info: undefined } {
    const record = this.accessTokens.get(tokenKey(token));
    if (!record) return { problem: 'unknown', info: undefined };
    if (record.revoked) return { problem: 'revoked', info: undefined };
    if (this.now() >= record.expiresAt) return { problem: 'expired', info: undefined };
    return {
      problem: null,
      info: {
        userId: record.userId,
        clientId: record.clientId,
        scopes: [...record.scopes],
        expiresAt: record.expiresAt,
      },
    };
  }

  /** Counts a /v1 request under `key` ("METHOD /v1/pattern") in `stats.api_requests`. */
  countApiRequest(key: string): void {
    this.stats.api_requests[key] = (this.stats.api_requests[key] ?? 0) + 1;
  }

  /** Like the user removing the app at spotify.com/account/apps: grants, tokens, codes and consent go. */
  revoke(userId: string, clientId?: string): { grants: number; accessTokens: number } {
    const matches = (c: string, u: string | null) =>
      u === userId && (clientId === undefined || c === clientId);
    let grants = 0;
    for (const grant of this.grants.values()) {
      if (!grant.revoked && matches(grant.clientId, grant.userId)) {
        grant.revoked = true;
        grants++;
      }
    }
    let accessTokens = 0;
    for (const token of this.accessTokens.values()) {
      if (!token.revoked && matches(token.clientId, token.userId)) {
        token.revoked = true;
        accessTokens++;
      }
    }
    for (const code of this.codes.values()) {
      if (matches(code.clientId, code.userId)) code.used = true;
    }
    for (const key of [...this.consents.keys()]) {
      const [c = '', u = ''] = key.split('\n');
      if (matches(c, u)) this.consents.delete(key);
    }
    return { grants, accessTokens };
  }

  /** Revokes one grant and every access token issued on it (a replayed code, a reused rotated token). */
  revokeGrant(grantId: string): void {
    const grant = this.grants.get(grantId);
    if (grant) grant.revoked = true;
    for (const token of this.accessTokens.values()) {
      if (token.grantId === grantId) token.revoked = true;
    }
  }

  /** Makes unexpired access tokens (of one user, or all) expire now; returns how many. */
  expireAccessTokens(userId?: string): number {
    const now = this.now();
    let count = 0;
    for (const token of this.accessTokens.values()) {
      if ((userId === undefined || token.userId === userId) && token.expiresAt > now) {
        token.expiresAt = now;
        count++;
      }
    }
    return count;
  }

  /** The scopes a user has already approved for an app, if any (`show_dialog=false` skips the page then). */
  consentFor(clientId: string, userId: string): Set<string> | undefined {
    return this.consents.get(`${clientId}\n${userId}`);
  }

  /** Adds scopes to what a user has approved for an app. */
  recordConsent(clientId: string, userId: string, scopes: string[]): void {
    const key = `${clientId}\n${userId}`;
    const set = this.consents.get(key) ?? new Set<string>();
    for (const scope of scopes) set.add(scope);
    this.consents.set(key, set);
  }

  /** Keeps an `/authorize` request while the consent page is shown (at most 1000, for 15 minutes). */
  addPending(request: Omit<PendingAuthorization, 'id' | 'csrf' | 'createdAt'>): PendingAuthorization {
    const now = this.now();
    for (const [id, pending] of this.pending) {
      if (now - pending.createdAt > PENDING_TTL_MS) this.pending.delete(id);
    }
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    const record: PendingAuthorization = {
      ...request,
      id: randomToken('', 24),
      csrf: randomToken('', 32),
      createdAt: now,
    };
    this.pending.set(record.id, record);
    return record;
  }

  /** Takes a pending authorization once; undefined when unknown, used or older than 15 minutes. */
  takePending(id: string): PendingAuthorization | undefined {
    const record = this.pending.get(id);
    if (!record) return undefined;
    this.pending.delete(id);
    if (this.now() - record.createdAt > PENDING_TTL_MS) return undefined;
    return record;
  }

  /** A new emulator login session for a user; returns the cookie value (stored only as its digest). */
  createSession(userId: string): string {
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const session = randomToken('', 32);
    this.sessions.set(tokenKey(session), userId);
    return session;
  }

  /** The user of a session cookie, or undefined. */
  sessionUser(session: string | undefined): string | undefined {
    if (!session) return undefined;
    const userId = this.sessions.get(tokenKey(session));
    return userId !== undefined && this.users.has(userId) ? userId : undefined;
  }

  /** Sets every counter back to zero. */
  resetStats(): void {
    this.stats = emptyStats();
  }

  /** Counts a token request by grant type, and by client id for registered apps. */
  countTokenRequest(grantType: CountedGrantType, clientId: string | undefined): void {
    this.stats.token_requests[grantType]++;
    this.stats.token_requests_total++;
    // Only registered ids: hostile client ids must not grow the stats without bound.
    const key = clientId !== undefined && this.apps.has(clientId) ? clientId : '(unknown)';
    const byClient = this.stats.token_requests_by_client;
    byClient[key] ??= emptyGrantCounts();
    byClient[key][grantType]++;
  }

  /** Counts a token-endpoint error by its `error` code. */
  countTokenError(error: string): void {
    this.stats.token_errors[error] = (this.stats.token_errors[error] ?? 0) + 1;
  }
}
