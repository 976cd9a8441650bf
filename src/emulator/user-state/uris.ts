/** Spotify URIs (`spotify:<kind>:<22 base62>`) as the per-user state stores them. */

export const URI_KINDS = [
  'track',
  'album',
  'artist',
  'episode',
  'show',
  'audiobook',
  'chapter',
  'playlist',
  'user',
] as const;
export type UriKind = (typeof URI_KINDS)[number];

export interface ParsedUri {
  kind: UriKind;
  id: string;
  uri: string;
}

const BASE62_ID = /^[0-9A-Za-z]{22}$/;
/** User ids are not base62: Spotify's own are free-form, the emulator's follow EmulatorState.addUser. */
const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function parseUri(value: string): ParsedUri | null {
  const parts = value.split(':');
  if (parts.length !== 3 || parts[0] !== 'spotify') return null;
  const kind = parts[1] as UriKind;
  const id = parts[2] ?? '';
  if (!(URI_KINDS as readonly string[]).includes(kind)) return null;
  if (!(kind === 'user' ? USER_ID : BASE62_ID).test(id)) return null;
  return { kind, id, uri: value };
}

export function uriOf(kind: UriKind, id: string): string {
  return `spotify:${kind}:${id}`;
}
