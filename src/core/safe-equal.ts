import { hash, timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison that, unlike timingSafeEqual, accepts inputs of different lengths. */
export function safeEqual(a: string, b: string): boolean {
  const da = hash('sha256', a, 'buffer');
  const db = hash('sha256', b, 'buffer');
  return timingSafeEqual(da, db) && a.length === b.length;
}
