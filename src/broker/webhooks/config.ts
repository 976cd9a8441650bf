import { SpotauthError } from '../../core/errors.js';
import { webhookKey } from './signing.js';

export interface WebhookConfig {
  urls: string[];
  /** HMAC key from SPOTAUTH_WEBHOOK_SECRET. */
  key: Buffer;
  /** Days before the 6-month refresh-token deadline at which `grant.expiring` is sent, largest first. */
  expiringDays: number[];
  /** How often the outbox is polled for due events (SPOTAUTH_WEBHOOK_POLL_MS, default 1000). */
  pollMs: number;
  /** First retry delay of a failed delivery; doubles per attempt up to 1 h (SPOTAUTH_WEBHOOK_RETRY_BASE_MS, default 10 s). */
  retryBaseMs: number;
  /** How often the deadline scan runs (SPOTAUTH_WEBHOOK_SCAN_INTERVAL_MS, default 1 h). */
  scanIntervalMs: number;
  /**
   * How long an instance's claim on an event lasts (SPOTAUTH_WEBHOOK_LEASE_MS, default 60 s): if it dies
   * mid-delivery, another instance sends the event this long after.
   */
  leaseMs: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/**
 * SPOTAUTH_WEBHOOK_URLS (comma-separated), SPOTAUTH_WEBHOOK_SECRET (`whsec_…`) and
 * SPOTAUTH_WEBHOOK_EXPIRING_DAYS (default `14,2`). Null when no URL is set: webhooks are off, and no events
 * are recorded. Only http(s); plain http only to a loopback address (events name users).
 */
export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookConfig | null {
  const raw = env['SPOTAUTH_WEBHOOK_URLS']?.trim();
  if (!raw) return null;
  const urls = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw configError(`SPOTAUTH_WEBHOOK_URLS: ${JSON.stringify(entry.slice(0, 80))} is not a URL.`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:')
        throw configError('SPOTAUTH_WEBHOOK_URLS: only http(s) URLs can receive webhooks.');
      if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname))
        throw configError(
          `SPOTAUTH_WEBHOOK_URLS: ${url.origin} is plain http; use https (plain http is accepted only on loopback).`,
        );
      if (url.username || url.password)
        throw configError('SPOTAUTH_WEBHOOK_URLS: no credentials in the URL.');
      return url.href;
    });
  const secret = env['SPOTAUTH_WEBHOOK_SECRET']?.trim();
  if (!secret) throw configError('SPOTAUTH_WEBHOOK_SECRET is required with SPOTAUTH_WEBHOOK_URLS.');
  const days = (env['SPOTAUTH_WEBHOOK_EXPIRING_DAYS'] ?? '14,2')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const value = Number(entry);
      if (!Number.isInteger(value) || value < 1 || value > 180)
        throw configError('SPOTAUTH_WEBHOOK_EXPIRING_DAYS must be whole numbers of days between 1 and 180.');
      return value;
    });
  return {
    urls: [...new Set(urls)],
    key: webhookKey(secret),
    expiringDays: [...new Set(days)].sort((a, b) => b - a),
    pollMs: milliseconds(env, 'SPOTAUTH_WEBHOOK_POLL_MS', 1000),
    retryBaseMs: milliseconds(env, 'SPOTAUTH_WEBHOOK_RETRY_BASE_MS', 10_000),
    scanIntervalMs: milliseconds(env, 'SPOTAUTH_WEBHOOK_SCAN_INTERVAL_MS', 3_600_000),
    leaseMs: milliseconds(env, 'SPOTAUTH_WEBHOOK_LEASE_MS', 60_000),
  };
}

function milliseconds(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 10 || value > 86_400_000)
    throw configError(`${name} must be a whole number of milliseconds between 10 and 86400000.`);
  return value;
}

function configError(message: string): SpotauthError {
  return new SpotauthError('INVALID_CONFIG', message);
}
