import { InvalidInput } from '../errors.js';

/**
 * Emulator-wide switches for Web API answers that Spotify has worded differently over time, or whose
 * form no capture settles. Emulator-wide, as the player's (user-state/player-config.ts): such changes
 * were Spotify's, server-side, for every client id.
 */
export interface ApiVariants {
  /**
   * The body message of a /v1 401.
   * '2026' (default): `Missing/invalid/expired access token` whether the token is missing, bogus or
   * expired (WEB-API-2026.md §4 "401s (2026)": ITST 2026-09; jwilsson/spotify-web-api-php#288) [3P].
   * 'legacy': what older captures show and clients may match on: `No token provided`, `Invalid access
   * token`, `The access token expired`.
   * The WWW-Authenticate header keeps its `error` and `error_description` either way.
   */
  unauthorizedMessages: UnauthorizedMessages;
  /**
   * The 403 a development-mode app gets when its owner has no Premium (WEB-API-2026.md §1): 'json'
   * (default, Spotify's error shape) or 'text' (the message alone, text/plain). The capture does not say
   * which [UNCONF].
   */
  ownerPremiumBody: OwnerPremiumBody;
}

/** See {@link ApiVariants.unauthorizedMessages}. */
export type UnauthorizedMessages = '2026' | 'legacy';
/** See {@link ApiVariants.ownerPremiumBody}. */
export type OwnerPremiumBody = 'json' | 'text';

export const DEFAULT_API_VARIANTS: ApiVariants = { unauthorizedMessages: '2026', ownerPremiumBody: 'json' };

const UNAUTHORIZED_MESSAGES: readonly UnauthorizedMessages[] = ['2026', 'legacy'];
const OWNER_PREMIUM_BODIES: readonly OwnerPremiumBody[] = ['json', 'text'];

export function apiVariantsJson(variants: ApiVariants) {
  return {
    unauthorized_messages: variants.unauthorizedMessages,
    owner_premium_body: variants.ownerPremiumBody,
  };
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new InvalidInput(`${name} must be ${allowed.map((v) => `"${v}"`).join(' or ')}`);
  }
  return value as T;
}

/** Validates `unauthorized_messages` / `owner_premium_body` of a control-API config body. */
export function parseApiVariants(body: Record<string, unknown>, current: ApiVariants): ApiVariants {
  const next = { ...current };
  if (body['unauthorized_messages'] !== undefined) {
    next.unauthorizedMessages = oneOf(
      body['unauthorized_messages'],
      UNAUTHORIZED_MESSAGES,
      'unauthorized_messages',
    );
  }
  if (body['owner_premium_body'] !== undefined) {
    next.ownerPremiumBody = oneOf(body['owner_premium_body'], OWNER_PREMIUM_BODIES, 'owner_premium_body');
  }
  return next;
}

/** The same checks for startEmulator's options (InvalidInput, which the CLI reports as a usage error). */
export function apiVariantsFromOptions(options: {
  unauthorizedMessages?: unknown;
  ownerPremiumBody?: unknown;
}): ApiVariants {
  const { unauthorizedMessages, ownerPremiumBody } = options;
  return {
    unauthorizedMessages:
      unauthorizedMessages === undefined
        ? DEFAULT_API_VARIANTS.unauthorizedMessages
        : oneOf(unauthorizedMessages, UNAUTHORIZED_MESSAGES, 'unauthorizedMessages'),
    ownerPremiumBody:
      ownerPremiumBody === undefined
        ? DEFAULT_API_VARIANTS.ownerPremiumBody
        : oneOf(ownerPremiumBody, OWNER_PREMIUM_BODIES, 'ownerPremiumBody'),
  };
}
