/**
 * A playlist's items as one typed array instead of an object per item: a seeded emulator holds millions
 * of items, and an object each (with a boxed `addedAt` and 8-byte pointers) cost several times the 20 bytes
 * an item takes here (key, URI and user as 32-bit cells, the time as the two halves of a double). One
 * array, not one per field, because each typed array also costs a buffer, its header and an allocation.
 *
 * A list is never changed once made: a write builds a new one. So the seed, the live playlist and the
 * snapshot history can all point at the same list without copying it.
 */

export interface PlaylistItem {
  /** Identity of this occurrence (the same URI may appear twice). */
  key: number;
  uri: string;
  addedAt: number;
  addedBy: string;
}

/**
 * One table of the distinct URIs and user ids across all playlists, which items name by index: a 5M-item
 * state holds a few thousand distinct tracks. Never shrinks (an index may be held by any list, the seed's
 * and the history's included); each distinct string costs about a hundred bytes once.
 */
const STRINGS: string[] = [];
const INDEX = new Map<string, number>();

function indexOf(value: string): number {
  let index = INDEX.get(value);
  if (index === undefined) {
    index = STRINGS.length;
    STRINGS.push(value);
    INDEX.set(value, index);
  }
  return index;
}

/** Five 32-bit cells per item: key, URI, added by, and added_at's double as two halves. */
const CELLS = 5;
const KEY = 0;
const URI = 1;
const BY = 2;
const TIME = 3;

/** Moves a double's bits to and from two cells exactly (a seed may give any finite number of ms). */
const TIME_BITS = new Float64Array(1);
const TIME_WORDS = new Uint32Array(TIME_BITS.buffer);

export class PlaylistItems {
  static readonly EMPTY = new PlaylistItems(new Uint32Array(0));

  private constructor(private readonly cells: Uint32Array) {}

  /** Items with keys from `firstKey` on, in order. */
  static of(
    items: readonly { uri: string; addedAt: number; addedBy: string }[],
    firstKey: number,
  ): PlaylistItems {
    const cells = new Uint32Array(items.length * CELLS);
    items.forEach((item, i) => {
      const at = i * CELLS;
      cells[at + KEY] = firstKey + i;
      cells[at + URI] = indexOf(item.uri);
      cells[at + BY] = indexOf(item.addedBy);
      TIME_BITS[0] = item.addedAt;
      cells[at + TIME] = TIME_WORDS[0] as number;
      cells[at + TIME + 1] = TIME_WORDS[1] as number;
    });
    return new PlaylistItems(cells);
  }

  get length(): number {
    return this.cells.length / CELLS;
  }

  keyAt(index: number): number {
    return this.cells[index * CELLS + KEY] as number;
  }

  uriAt(index: number): string {
    return STRINGS[this.cells[index * CELLS + URI] as number] as string;
  }

  addedByAt(index: number): string {
    return STRINGS[this.cells[index * CELLS + BY] as number] as string;
  }

  addedAtOf(index: number): number {
    TIME_WORDS[0] = this.cells[index * CELLS + TIME] as number;
    TIME_WORDS[1] = this.cells[index * CELLS + TIME + 1] as number;
    return TIME_BITS[0] as number;
  }

  keys(): number[] {
    return Array.from({ length: this.length }, (_, i) => this.keyAt(i));
  }

  uris(): string[] {
    return Array.from({ length: this.length }, (_, i) => this.uriAt(i));
  }

  at(index: number): PlaylistItem {
    return {
      key: this.keyAt(index),
      uri: this.uriAt(index),
      addedAt: this.addedAtOf(index),
      addedBy: this.addedByAt(index),
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
    const cells = new Uint32Array(positions.length * CELLS);
    positions.forEach((from, to) => {
      cells.set(this.cells.subarray(from * CELLS, from * CELLS + CELLS), to * CELLS);
    });
    return new PlaylistItems(cells);
  }

  /** `other` inserted before position `at`. */
  insert(at: number, other: PlaylistItems): PlaylistItems {
    const cells = new Uint32Array(this.cells.length + other.cells.length);
    cells.set(this.cells.subarray(0, at * CELLS));
    cells.set(other.cells, at * CELLS);
    cells.set(this.cells.subarray(at * CELLS), (at + other.length) * CELLS);
    return new PlaylistItems(cells);
  }

  /** Positions whose key passes `keep`, in order. */
  positionsWhere(keep: (key: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.length; i++) if (keep(this.keyAt(i))) out.push(i);
    return out;
  }
}
