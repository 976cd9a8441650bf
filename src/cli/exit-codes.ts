import { EXIT_CODES } from '../core/error-table.js';

/** Stable exit codes (documented in the README), from the one error table. */
export const EXIT = EXIT_CODES;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.ERROR) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
