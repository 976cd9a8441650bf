/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): each delivery carries `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * under a secret written `whsec_<base64>`. A receiver recomputes the HMAC, compares in constant time and
 * refuses timestamps outside a tolerance (replays).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SpotauthError } from '../../core/errors.js';

const PREFIX = 'whsec_';
/** How far a receiver lets a timestamp drift from its clock, by default (the convention's 5 minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function generateWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The HMAC key inside a `whsec_…` secret. Errors never echo the secret. */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : '';
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (key.length < 24) {
    throw new SpotauthError(
      'INVALID_CONFIG',
      'SPOTAUTH_WEBHOOK_SECRET must be "whsec_" followed by at least 24 bytes in base64 (create one with `spotauth webhooks secret`).',
    );
  }
  return key;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): SignedHeaders {
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}

/**
 * What a receiver does (documented in the README; our tests' receiver uses it): true when one of the
 * space-separated `v1,` signatures matches and the timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyWebhook(
  secret: string,
  headers: { get(name: string): string | null | undefined } | Record<string, string | undefined>,
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  const read = (name: string) =>
    typeof (headers as { get?: unknown }).get === 'function'
      ? ((headers as { get(name: string): string | null | undefined }).get(name) ?? undefined)
      : (headers as Record<string, string | undefined>)[name];
  const id = read('webhook-id');
  const timestamp = read('webhook-timestamp');
  const signatures = read('webhook-signature');
  if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS))
    return false;
  const expected = Buffer.from(
    signWebhook(webhookKey(secret), id, Number(timestamp), body)['webhook-signature'].slice(3),
    'base64',
  );
  return signatures.split(' ').some((candidate) => {
    if (!candidate.startsWith('v1,')) return false;
    const presented = Buffer.from(candidate.slice(3), 'base64');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  });
}
