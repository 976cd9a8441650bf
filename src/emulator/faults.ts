import type { ServerResponse } from 'node:http';
import { InvalidInput } from './errors.js';
import { send, sendJson } from './http.js';
import { randomToken } from './random.js';
import { type EmulatorState, FAULT_KINDS, type FaultKind, type FaultRecord } from './state.js';

/** Faults that replace the whole response, so the request is never processed (a code stays unused). */
const REPLACING: ReadonlySet<FaultKind> = new Set([
  'server_error',
  'error_transient',
  'rate_limit',
  'redirect',
  'huge_body',
]);
/** Faults that deform a successful token response (the tokens are issued; only the JSON is wrong). */
const SHAPING: ReadonlySet<FaultKind> = new Set([
  'bad_token_type',
  'bad_expires_in',
  'lowercase_bearer',
  'no_expires_in',
]);

export const REDIRECT_TARGET_PATH = '/_emulator/redirect-target';
const HUGE_BODY_BYTES = 5 * 1024 * 1024;

/** What a failing load balancer in front of accounts.spotify.com sends (spotify/web-api#1151): not JSON. */
export const SERVER_ERROR_BODY =
  '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n';
/** spotify/web-api#1150: Spotify's token endpoint answers transient failures with a non-RFC error code. */
export const ERROR_TRANSIENT_BODY = {
  error: 'errorTransient',
  error_description: 'Temporary error, please retry',
};
export const RATE_LIMIT_BODY = { error: { status: 429, message: 'API rate limit exceeded' } };

function intIn(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInput(`${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** Validates a control-API fault spec; throws an Error whose message is safe to return to the caller. */
export function parseFault(input: unknown): FaultRecord {
  if (typeof input !== 'object' || input === null)
    throw new InvalidInput('Send a JSON object like {"kind":"server_error"}.');
  const spec = input as Record<string, unknown>;
  const endpoint = spec['endpoint'] ?? 'token';
  if (endpoint !== 'token') throw new InvalidInput('endpoint must be "token".');
  const kind = spec['kind'];
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidInput(`kind must be one of ${FAULT_KINDS.join(', ')}.`);
  }
  const location = spec['location'];
  if (
    location !== undefined &&
    (typeof location !== 'string' || location.length > 2048 || /[\r\n]/.test(location))
  ) {
    throw new InvalidInput('location must be a URL string.');
  }
  const defaultStatus = kind === 'error_transient' || kind === 'server_error' ? 503 : 200;
  const status = intIn(spec['status'], 'status', 500, 599, defaultStatus);
  if (kind === 'error_transient' && status !== 500 && status !== 503)
    throw new InvalidInput('status must be 500 or 503.');
  return {
    endpoint: 'token',
    kind: kind as FaultKind,
    remaining: intIn(spec['count'], 'count', 1, 10_000, 1),
    retryAfter: intIn(spec['retry_after'], 'retry_after', 0, 86_400, 1),
    latencyMs: intIn(spec['latency_ms'], 'latency_ms', 0, 120_000, 1000),
    status,
    location: typeof location === 'string' ? location : null,
  };
}

export function faultJson(fault: FaultRecord) {
  return {
    endpoint: fault.endpoint,
    kind: fault.kind,
    remaining: fault.remaining,
    retry_after: fault.retryAfter,
    latency_ms: fault.latencyMs,
    status: fault.status,
    location: fault.location,
  };
}

function consume(state: EmulatorState, fault: FaultRecord): void {
  fault.remaining--;
  if (fault.remaining <= 0) state.faults = state.faults.filter((f) => f !== fault);
  state.stats.token_faults[fault.kind] = (state.stats.token_faults[fault.kind] ?? 0) + 1;
}

function head(state: EmulatorState): FaultRecord | undefined {
  return state.faults.find((f) => f.remaining > 0);
}

/**
 * Runs before the token request is processed. Returns true when a fault already answered it; waits first
 * for a `latency` fault and then lets the request through.
 */
export async function applyPreFault(
  state: EmulatorState,
  res: ServerResponse,
  baseUrl: string,
): Promise<boolean> {
  const fault = head(state);
  if (!fault) return false;
  if (fault.kind === 'latency') {
    consume(state, fault);
    await hold(state, fault.latencyMs);
    return false;
  }
  if (!REPLACING.has(fault.kind)) return false;
  consume(state, fault);
  const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  switch (fault.kind) {
    case 'server_error':
      send(res, fault.status, SERVER_ERROR_BODY, { 'Content-Type': 'text/html', ...noStore });
      break;
    case 'error_transient':
      sendJson(res, fault.status, ERROR_TRANSIENT_BODY, {
        'Content-Type': 'application/json;charset=UTF-8',
        ...noStore,
      });
      break;
    case 'rate_limit':
      sendJson(res, 429, RATE_LIMIT_BODY, { 'Retry-After': String(fault.retryAfter), ...noStore });
      break;
    case 'redirect':
      send(res, 302, '', { Location: fault.location ?? `${baseUrl}${REDIRECT_TARGET_PATH}`, ...noStore });
      break;
    case 'huge_body':
      send(res, 200, hugeBody(state), { 'Content-Type': 'application/json;charset=UTF-8', ...noStore });
      break;
  }
  return true;
}

/** A syntactically valid token response padded to ~5 MB; the token in it is not registered. */
function hugeBody(state: EmulatorState): Buffer {
  const head = JSON.stringify({
    access_token: randomToken(`${state.config.tokenPrefix}BQ`, 48),
    token_type: 'Bearer',
    expires_in: state.config.accessTokenTtlSeconds,
    scope: '',
  });
  const prefix = `${head.slice(0, -1)},"padding":"`;
  const suffix = '"}';
  return Buffer.concat([
    Buffer.from(prefix),
    Buffer.alloc(HUGE_BODY_BYTES - prefix.length - suffix.length, 'x'),
    Buffer.from(suffix),
  ]);
}

/**
 * Runs after the token request was processed, before its answer is sent: waits for a `response_latency`
 * fault. The request has had its effect (a code is spent, a refresh token rotated) whether or not the
 * client is still there to read the answer — as at Spotify, which finishes what it received.
 */
export async function applyResponseLatency(state: EmulatorState): Promise<void> {
  const fault = head(state);
  if (fault?.kind !== 'response_latency') return;
  consume(state, fault);
  await hold(state, fault.latencyMs);
}

/** Waits `ms`, or less if `POST /_emulator/faults/release` lets the held requests go first. */
function hold(state: EmulatorState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const release = () => {
      clearTimeout(timer);
      state.heldTokenRequests.delete(release);
      resolve();
    };
    const timer = setTimeout(release, ms);
    state.heldTokenRequests.add(release);
  });
}

/** Lets every token request held by a latency fault go on now; returns how many there were. */
export function releaseHeld(state: EmulatorState): number {
  const held = [...state.heldTokenRequests];
  for (const release of held) release();
  return held.length;
}

/** Deforms a successful token response in place, if a shaping fault is next in line. */
export function applyShapeFault(state: EmulatorState, body: Record<string, unknown>): void {
  const fault = head(state);
  if (!fault || !SHAPING.has(fault.kind)) return;
  consume(state, fault);
  switch (fault.kind) {
    case 'bad_token_type':
      body['token_type'] = 'mac';
      break;
    case 'bad_expires_in':
      body['expires_in'] = 'abc';
      break;
    case 'lowercase_bearer':
      body['token_type'] = 'bearer';
      break;
    case 'no_expires_in':
      delete body['expires_in'];
      break;
  }
}
