import { randomBytes } from 'node:crypto';

export { canary, keyFor, keyringOf, sampleRecord, sleep } from '../../src/testing/fixtures.js';

export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Decides whether a service-backed suite runs. Unreachable + CI → the suite fails (a missing service must not
 * turn into a green build); unreachable locally → skipped, loudly.
 */
export async function serviceGate(
  label: string,
  where: string,
  probe: () => Promise<void>,
): Promise<{ run: boolean; failure?: string }> {
  try {
    await probe();
    return { run: true };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env['CI'])
      return { run: false, failure: `${label} not reachable at ${where} (${reason}); CI requires it.` };
    console.warn(`SKIPPED: ${label} not reachable at ${where} (${reason}). Start it to run these tests.`);
    return { run: false };
  }
}
