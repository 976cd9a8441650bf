/** The webhooks part of the broker's OpenAPI document: each event, its body and the signature headers. */

const header = (name: string, description: string, schema: Record<string, unknown>) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema,
});

const SIGNATURE_HEADERS = [
  header('webhook-id', 'The event id: the same on every retry. Deduplicate on it.', { type: 'string' }),
  header('webhook-timestamp', 'Unix seconds when this attempt was signed; refuse ones far from your clock.', {
    type: 'string',
    pattern: '^[0-9]+$',
  }),
  header(
    'webhook-signature',
    '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the bytes of SPOTAUTH_WEBHOOK_SECRET after `whsec_` (Standard Webhooks).',
    { type: 'string', pattern: '^v1,' },
  ),
];

const grantFields = {
  user: { type: 'string', description: 'The Spotify account id.' },
  display_name: { type: ['string', 'null'] },
  scope: { type: 'string', description: 'Space-separated granted scopes.' },
  refresh_token_expires_at: { type: ['string', 'null'], format: 'date-time' },
};

function eventSchema(type: string, data: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: type },
      timestamp: { type: 'string', format: 'date-time' },
      data: { type: 'object', required, properties: data },
    },
  };
}

export const WEBHOOK_SCHEMAS = {
  GrantLinkedEvent: eventSchema('grant.linked', grantFields, ['user', 'scope']),
  GrantDeletedEvent: eventSchema('grant.deleted', { user: grantFields.user }, ['user']),
  GrantReauthRequiredEvent: eventSchema(
    'grant.reauth_required',
    { ...grantFields, reason: { enum: ['revoked', 'expired', 'invalid_client'] } },
    ['user', 'reason'],
  ),
  GrantExpiringEvent: eventSchema(
    'grant.expiring',
    {
      ...grantFields,
      threshold_days: { type: 'integer', description: 'Which of SPOTAUTH_WEBHOOK_EXPIRING_DAYS this is.' },
      days_left: { type: 'integer' },
    },
    ['user', 'threshold_days', 'days_left'],
  ),
};

const EVENTS: Array<[string, keyof typeof WEBHOOK_SCHEMAS, string]> = [
  ['grant.linked', 'GrantLinkedEvent', 'A user logged in (a new grant, or a new consent replacing one).'],
  [
    'grant.deleted',
    'GrantDeletedEvent',
    'A grant was unlinked (DELETE /api/v1/users/{id}, or a logout that deletes it).',
  ],
  [
    'grant.reauth_required',
    'GrantReauthRequiredEvent',
    'Spotify refused the grant; the user must log in again. `reason`: revoked, expired (the 6-month limit), invalid_client.',
  ],
  [
    'grant.expiring',
    'GrantExpiringEvent',
    "The grant's refresh token dies in about `days_left` days (Spotify's 6-month limit): ask the user to log in again before then.",
  ],
];

export function webhooksDocument() {
  return Object.fromEntries(
    EVENTS.map(([type, schema, summary]) => [
      type,
      {
        post: {
          operationId: `webhook_${type.replace('.', '_')}`,
          summary,
          description:
            'POSTed to every SPOTAUTH_WEBHOOK_URLS entry, at least once: a non-2xx answer or no answer within 10 s is retried with exponential backoff (10 s doubling to 1 h, 15 attempts), then marked failed (`spotauth webhooks retry ID` sends it again).',
          parameters: SIGNATURE_HEADERS,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
          },
          responses: { '2XX': { description: 'Received. Any other answer is retried.' } },
        },
      },
    ]),
  );
}
