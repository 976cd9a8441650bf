/**
 * Text that another party controls (a callback's `error`, Spotify's `error_description`, a display name)
 * may carry terminal escapes (clipboard writes, screen clears), fake line breaks or bidi overrides. Before it
 * is shown anywhere — a terminal, a log, a message — those characters become U+FFFD.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function stripControls(text: string): string {
  return text.replace(UNSAFE, '\uFFFD');
}
