/** Stable exit codes (documented in the README). */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  /** Not logged in, or the login is no longer valid: run `spotauth login`. */
  LOGIN_REQUIRED: 3,
  /** Spotify (or the network) is unavailable or rate limiting: try again later. */
  UNAVAILABLE: 4,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.ERROR) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
