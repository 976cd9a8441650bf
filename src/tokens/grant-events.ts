/**
 * The events a grant's life produces, as the webhook outbox stores them. The token manager writes them in
 * the same store step as the change (so a crash loses none); the broker's dispatcher only signs and sends.
 * Body, per the Standard Webhooks convention: `{ type, timestamp, data }`.
 */
import { randomBytes } from 'node:crypto';
import type { NewOutboxEvent } from '../stores/outbox.js';
import type { ReauthReason, TokenRecordInput } from '../stores/types.js';

export type GrantEventType = 'grant.linked' | 'grant.deleted' | 'grant.reauth_required' | 'grant.expiring';

export function newEventId(): string {
  return `evt_${randomBytes(16).toString('base64url')}`;
}

function event(type: GrantEventType, data: Record<string, unknown>, now: number): NewOutboxEvent {
  return {
    id: newEventId(),
    type,
    payload: JSON.stringify({ type, timestamp: new Date(now).toISOString(), data }),
  };
}

/** What every grant event says about the grant (the account id, never a token). */
type GrantFields = Pick<TokenRecordInput, 'key' | 'scope' | 'refreshTokenDeadline' | 'meta'>;

function grantData(record: GrantFields) {
  return {
    user: record.key.startsWith('user:') ? record.key.slice('user:'.length) : record.key,
    display_name: record.meta?.['displayName'] ?? null,
    scope: record.scope.join(' '),
    refresh_token_expires_at: record.refreshTokenDeadline
      ? new Date(record.refreshTokenDeadline).toISOString()
      : null,
  };
}

export const grantEvents = {
  linked: (record: GrantFields, now: number) => event('grant.linked', grantData(record), now),
  deleted: (key: string, now: number) =>
    event('grant.deleted', { user: key.startsWith('user:') ? key.slice('user:'.length) : key }, now),
  reauthRequired: (record: GrantFields, reason: ReauthReason, now: number) =>
    event('grant.reauth_required', { ...grantData(record), reason }, now),
  expiring: (record: GrantFields, thresholdDays: number, now: number) =>
    event(
      'grant.expiring',
      {
        ...grantData(record),
        threshold_days: thresholdDays,
        days_left: Math.max(0, Math.floor(((record.refreshTokenDeadline ?? now) - now) / 86_400_000)),
      },
      now,
    ),
};
