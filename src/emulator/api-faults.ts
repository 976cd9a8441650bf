import type { ServerResponse } from 'node:http';
import { InvalidInput } from './errors.js';
import { send, sendJson } from './http.js';
import { API_FAULT_KINDS, type ApiFaultKind, type ApiFaultRecord, type EmulatorState } from './state.js';

/** The 2025–26 text of the dev-mode allowlist 403 (FACTS §3.3); Spotify sends it as plain text, not JSON. */
export const NOT_ALLOWLISTED_BODY =
  'Check settings on developer.spotify.com/dashboard, the user may not be registered.';

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

function intIn(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInput(`${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** Validates a POST /_emulator/api-faults body. */
export function parseApiFault(spec: Record<string, unknown>): ApiFaultRecord {
  const kind = spec['kind'];
  if (typeof kind !== 'string' || !(API_FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidInput(`kind must be one of ${API_FAULT_KINDS.join(', ')}.`);
  }
  const path = spec['path'];
  if (path !== undefined && path !== null) {
    if (typeof path !== 'string' || !/^\/v1\/[A-Za-z0-9_{}/.-]{1,200}$/.test(path)) {
      throw new InvalidInput('path must be a /v1/… path such as "/v1/me" or "/v1/tracks/{id}".');
    }
  }
  const reason = spec['reason'];
  if (reason !== undefined && reason !== null) {
    if (kind !== 'rate_limit') throw new InvalidInput('reason only applies to rate_limit.');
    if (typeof reason !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(reason)) {
      throw new InvalidInput('reason must be a short code such as "QUOTA_EXCEEDED".');
    }
  }
  const body = spec['body'] ?? 'html';
  if (body !== 'html' && body !== 'json') throw new InvalidInput('body must be "html" or "json".');
  const status = intIn(spec['status'], 'status', 500, 504, 503);
  if (!(status in STATUS_TEXT)) throw new InvalidInput('status must be 500, 502, 503 or 504.');
  return {
    kind: kind as ApiFaultKind,
    remaining: intIn(spec['count'], 'count', 1, 10_000, 1),
    path: typeof path === 'string' ? path : null,
    retryAfter: intIn(spec['retry_after'], 'retry_after', 0, 86_400, 1),
    reason: typeof reason === 'string' ? reason : null,
    status,
    body,
    latencyMs: intIn(spec['latency_ms'], 'latency_ms', 0, 120_000, 1000),
  };
}

export function apiFaultJson(fault: ApiFaultRecord) {
  return {
    kind: fault.kind,
    remaining: fault.remaining,
    path: fault.path,
    retry_after: fault.retryAfter,
    reason: fault.reason,
    status: fault.status,
    body: fault.body,
    latency_ms: fault.latencyMs,
  };
}

export function sendNotAllowlisted(res: ServerResponse): void {
  send(res, 403, NOT_ALLOWLISTED_BODY, { 'Content-Type': 'text/plain' });
}

/**
 * Runs before a /v1 request is authenticated. Latency faults delay it; the first other matching fault
 * answers it (returns true). Faults are consumed in the order they were added. A fault of `count: N`
 * acts on N requests, once each: a latency fault that has delayed this request is passed over when the
 * search goes on, or it would spend its whole count on one request.
 */
export async function applyApiFault(
  state: EmulatorState,
  res: ServerResponse,
  pathname: string,
  pattern: string,
): Promise<boolean> {
  const applied = new Set<ApiFaultRecord>();
  for (;;) {
    const fault = state.apiFaults.find(
      (f) =>
        f.remaining > 0 && !applied.has(f) && (f.path === null || f.path === pathname || f.path === pattern),
    );
    if (!fault) return false;
    fault.remaining--;
    if (fault.remaining <= 0) state.apiFaults = state.apiFaults.filter((f) => f !== fault);
    state.stats.api_faults[fault.kind] = (state.stats.api_faults[fault.kind] ?? 0) + 1;
    switch (fault.kind) {
      case 'latency':
        applied.add(fault);
        await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
        continue;
      case 'rate_limit': {
        const error = fault.reason
          ? { status: 429, message: 'Too many requests', reason: fault.reason }
          : { status: 429, message: 'API rate limit exceeded' };
        sendJson(res, 429, { error }, { 'Retry-After': String(fault.retryAfter) });
        return true;
      }
      case 'server_error': {
        const text = STATUS_TEXT[fault.status] ?? 'Server Error';
        if (fault.body === 'json') {
          sendJson(res, fault.status, { error: { status: fault.status, message: text } });
        } else {
          send(
            res,
            fault.status,
            `<html>\r\n<head><title>${fault.status} ${text}</title></head>\r\n<body>\r\n<center><h1>${fault.status} ${text}</h1></center>\r\n</body>\r\n</html>\r\n`,
            { 'Content-Type': 'text/html' },
          );
        }
        return true;
      }
      case 'not_allowlisted':
        sendNotAllowlisted(res);
        return true;
    }
  }
}
