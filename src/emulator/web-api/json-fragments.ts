import { randomBytes } from 'node:crypto';

/**
 * Objects that are serialised again and again (a catalogue track appears in search results, top tracks,
 * playlists, the player) keep their JSON text, and `stringify` splices that text in instead of walking the
 * object each time. The output is byte for byte what JSON.stringify gives for the same value.
 *
 * Node 20 has no JSON.rawJSON, so a fragment's toJSON hands JSON.stringify a placeholder string, and the
 * placeholders are replaced afterwards. A placeholder starts with U+0000 and a per-process random nonce,
 * which no string a client sends can be expected to contain. Outside `stringify` (JSON.stringify anywhere
 * else) a fragment serialises as the plain object it is.
 */

const NONCE = randomBytes(12).toString('base64url');
const MARK = `\u0000${NONCE}:`;
/** How JSON.stringify writes a placeholder: U+0000 becomes the six characters \u0000. */
const PLACEHOLDER = new RegExp(`"\\\\u0000${NONCE}:(\\d+)"`, 'g');

const texts = new WeakMap<object, string>();
/** The fragments met by the `stringify` call under way, in the order their placeholders were written. */
let splicing: string[] | null = null;

function fragmentToJson(this: object): unknown {
  if (splicing === null) return this;
  let text = texts.get(this);
  if (text === undefined) {
    const outer = splicing;
    splicing = null;
    try {
      text = JSON.stringify(this);
    } finally {
      splicing = outer;
    }
    texts.set(this, text);
  }
  splicing.push(text);
  return `${MARK}${splicing.length - 1}`;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * Marks `value` as a fragment and freezes it (deeply): it is shared by every response that shows it, so a
 * handler that changed it would change them all; frozen, such a change fails loudly instead.
 */
export function fragment<T extends object>(value: T): T {
  Object.defineProperty(value, 'toJSON', { value: fragmentToJson, enumerable: false });
  deepFreeze(value);
  return value;
}

/** JSON.stringify, with fragments spliced in from their stored text. */
export function stringify(value: unknown): string {
  const outer = splicing;
  const parts: string[] = [];
  splicing = parts;
  let text: string;
  try {
    text = JSON.stringify(value);
  } finally {
    splicing = outer;
  }
  if (parts.length === 0) return text;
  return text.replace(PLACEHOLDER, (_, index: string) => parts[Number(index)] as string);
}
