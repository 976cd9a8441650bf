/**
 * Constant-time string comparison that accepts inputs of different lengths (only the longer length leaks).
 * Plain JavaScript rather than node:crypto's timingSafeEqual so that core stays runtime-neutral (the
 * browser client checks its login state with it too): every character is compared, with no early exit
 * and no data-dependent branch.
 */
export function safeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let difference = a.length ^ b.length;
  // charCodeAt past the end is NaN, and NaN | 0 is 0: the shorter string is padded, the length check stays.
  for (let i = 0; i < length; i++) difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return difference === 0;
}
