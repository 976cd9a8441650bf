/**
 * A playlist's items as four parallel columns instead of an object per item: a seeded emulator holds
 * millions of items, and an object with a boxed `addedAt` cost several times the columns (keys are small
 * integers and times doubles, which V8 stores unboxed; URIs and users are shared strings).
 *
 * A list is never changed once made: a write builds a new one. So the seed, the live playlist and the
 * snapshot history can all point at the same columns without copying them.
 */

export interface PlaylistItem {
  /** Identity of this occurrence (the same URI may appear twice). */
  key: number;
  uri: string;
  addedAt: number;
  addedBy: string;
}

/**
 * One string per distinct URI and user across all playlists: a 5M-item state holds a few thousand distinct
 * tracks, and a copy per item was most of its memory. Cleared when it grows past a bound (copies are still
 * correct).
 */
const STRINGS = new Map<string, string>();
const MAX_INTERNED = 1_000_000;

export function intern(value: string): string {
  const known = STRINGS.get(value);
  if (known !== undefined) return known;
  if (STRINGS.size >= MAX_INTERNED) STRINGS.clear();
  STRINGS.set(value, value);
  return value;
}

export class PlaylistItems {
  static readonly EMPTY = new PlaylistItems([], [], [], []);

  private constructor(
    readonly keys: readonly number[],
    readonly uris: readonly string[],
    readonly addedAt: readonly number[],
    readonly addedBy: readonly string[],
  ) {}

  /** Items with keys from `firstKey` on, in order. */
  static of(
    items: readonly { uri: string; addedAt: number; addedBy: string }[],
    firstKey: number,
  ): PlaylistItems {
    const n = items.length;
    const keys = new Array<number>(n);
    const uris = new Array<string>(n);
    const addedAt = new Array<number>(n);
    const addedBy = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const item = items[i] as { uri: string; addedAt: number; addedBy: string };
      keys[i] = firstKey + i;
      uris[i] = intern(item.uri);
      // `+` keeps the column all doubles, so V8 keeps it unboxed.
      addedAt[i] = +item.addedAt;
      addedBy[i] = intern(item.addedBy);
    }
    return new PlaylistItems(keys, uris, addedAt, addedBy);
  }

  get length(): number {
    return this.keys.length;
  }

  at(index: number): PlaylistItem {
    return {
      key: this.keys[index] as number,
      uri: this.uris[index] as string,
      addedAt: this.addedAt[index] as number,
      addedBy: this.addedBy[index] as string,
    };
  }

  /** Built only for what is shown (a page of items), like Array.prototype.slice. */
  slice(start = 0, end = this.length): PlaylistItem[] {
    const from = Math.max(0, start);
    const to = Math.min(this.length, end);
    const out: PlaylistItem[] = [];
    for (let i = from; i < to; i++) out.push(this.at(i));
    return out;
  }

  /** The items at these positions, in this order. */
  pick(positions: readonly number[]): PlaylistItems {
    return new PlaylistItems(
      positions.map((i) => this.keys[i] as number),
      positions.map((i) => this.uris[i] as string),
      positions.map((i) => this.addedAt[i] as number),
      positions.map((i) => this.addedBy[i] as string),
    );
  }

  /** `other` inserted before position `at`. */
  insert(at: number, other: PlaylistItems): PlaylistItems {
    const splice = <T>(a: readonly T[], b: readonly T[]) => [...a.slice(0, at), ...b, ...a.slice(at)];
    return new PlaylistItems(
      splice(this.keys, other.keys),
      splice(this.uris, other.uris),
      splice(this.addedAt, other.addedAt),
      splice(this.addedBy, other.addedBy),
    );
  }

  /** Positions whose key passes `keep`, in order. */
  positionsWhere(keep: (key: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (keep(this.keys[i] as number)) out.push(i);
    return out;
  }
}
