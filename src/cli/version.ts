/** Kept in step with package.json by hand (reading package.json at start-up would cost a file read). */
export const VERSION = '0.1.0';
