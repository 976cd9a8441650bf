import { stripControls } from '../core/text.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Text from another party (Spotify profile fields, callback parameters), made safe to print: no terminal
 * escapes, no fake lines. Our own escapes (bold, dim) are added after this.
 */
export function printable(text: string): string {
  return stripControls(text);
}

const useColor = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && !('NO_COLOR' in process.env);

export function bold(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\u001b[1m${text}\u001b[22m` : text;
}

export function dim(text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColor(stream) ? `\u001b[2m${text}\u001b[22m` : text;
}

/** Codes of SpotauthError (duck-typed, so this file needs no import of the library). */
const LOGIN_CODES = new Set(['REAUTH_REQUIRED', 'NOT_LOGGED_IN', 'INVALID_GRANT', 'API_UNAUTHORIZED']);
const USAGE_CODES = new Set([
  'INVALID_CONFIG',
  'INVALID_REDIRECT_URI',
  'INVALID_SCOPE',
  'INSECURE_URL',
  'IMPLICIT_GRANT_REMOVED',
]);
const UNAVAILABLE_CODES = new Set(['NETWORK', 'TIMEOUT', 'SPOTIFY_UNAVAILABLE', 'RATE_LIMITED']);

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { code?: unknown } | null)?.code;
  const transient = (error as { transient?: unknown } | null)?.transient === true;
  if (typeof code === 'string') {
    if (LOGIN_CODES.has(code)) return EXIT.LOGIN_REQUIRED;
    if (USAGE_CODES.has(code)) return EXIT.USAGE;
    if (transient || UNAVAILABLE_CODES.has(code)) return EXIT.UNAVAILABLE;
    if (code.startsWith('commander.')) return EXIT.USAGE;
  }
  return EXIT.ERROR;
}

/** One clear sentence on stderr; the stack only with --debug. Never prints a token (errors carry none). */
export function reportError(error: unknown, debug: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  const exitCode = exitCodeFor(error);
  const code = (error as { code?: unknown } | null)?.code;
  const hint =
    exitCode === EXIT.LOGIN_REQUIRED && !/spotauth login/.test(message)
      ? ' Run `spotauth login`.'
      : code === 'DECRYPT_FAILED' || code === 'KEY_UNKNOWN'
        ? ' If the encryption key was lost or replaced, move the credentials file away and run `spotauth login`.'
        : '';
  // Messages can quote what a remote party sent: each line is made printable on its own.
  const safe = message.split('\n').map(printable).join('\n');
  process.stderr.write(`spotauth: ${safe}${hint}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return exitCode;
}
