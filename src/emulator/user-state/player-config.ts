import { InvalidInput } from '../errors.js';

/**
 * Emulator-wide switches for answers Spotify has given both ways (WEB-API-2026 §5). Emulator-wide rather
 * than per app: the change was Spotify's, server-side, for every client id.
 */
export interface PlayerConfig {
  /**
   * 'no_content': play and pause answer 204 with no body (OAS; the default).
   * 'opaque': they answer 200 with a short non-JSON token in a text body, as seen since about Aug 2024
   * (the status was not captured; 200 is our pick [UNCONF]). Other commands stay 204.
   */
  success: 'no_content' | 'opaque';
  /**
   * 'observed': refusals carry `reason: "UNKNOWN"` with "Restriction violated", as captured.
   * 'specific': they carry the PlayerErrorReasons value that fits (ALREADY_PAUSED, NO_NEXT_TRACK, …).
   * NO_ACTIVE_DEVICE, PREMIUM_REQUIRED and VOLUME_CONTROL_DISALLOW are always specific (captured so).
   */
  reasons: 'observed' | 'specific';
}

export const DEFAULT_PLAYER_CONFIG: PlayerConfig = { success: 'no_content', reasons: 'observed' };

export function playerConfigJson(config: PlayerConfig) {
  return { player_success: config.success, player_reasons: config.reasons };
}

/** Validates `player_success` / `player_reasons` of a control-API config body. */
export function parsePlayerConfig(body: Record<string, unknown>, current: PlayerConfig): PlayerConfig {
  const next = { ...current };
  const success = body['player_success'];
  if (success !== undefined) {
    if (success !== 'no_content' && success !== 'opaque') {
      throw new InvalidInput('player_success must be "no_content" or "opaque"');
    }
    next.success = success;
  }
  const reasons = body['player_reasons'];
  if (reasons !== undefined) {
    if (reasons !== 'observed' && reasons !== 'specific') {
      throw new InvalidInput('player_reasons must be "observed" or "specific"');
    }
    next.reasons = reasons;
  }
  return next;
}
