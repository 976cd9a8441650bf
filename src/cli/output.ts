import { ERROR_TABLE } from '../core/error-table.js';
import type { ErrorCode } from '../core/errors.js';
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

/** The exit code of any error: a CliError's own, a SpotauthError's from the error table. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (Object.hasOwn(ERROR_TABLE, code)) return ERROR_TABLE[code as ErrorCode].exit;
    if (code.startsWith('commander.')) return EXIT.USAGE;
  }
  return (error as { transient?: unknown } | null)?.transient === true ? EXIT.UNAVAILABLE : EXIT.ERROR;
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
