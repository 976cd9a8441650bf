/**
 * Narrowing for tests: a value the test relies on is checked, and its absence fails the test with a
 * message that says what was missing (instead of a `!` that turns it into a TypeError further on).
 */

/** The value, or a thrown error naming what was expected. */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}

/** What `fn` throws; a test that expects a throw fails when nothing is thrown. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
