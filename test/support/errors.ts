import { expect } from 'vitest';
import { SpotauthError } from '../../src/core/index.js';

/** Awaits a promise that must reject with a SpotauthError, and returns that error. */
export async function caught(promise: Promise<unknown>): Promise<SpotauthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SpotauthError);
    return error as SpotauthError;
  }
  throw new Error('expected a rejection with a SpotauthError');
}
