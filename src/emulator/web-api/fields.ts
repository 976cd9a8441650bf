/**
 * Spotify's `fields` filter (GET /playlists/{id}, /items, /tracks; OAS): a comma-separated list of the
 * fields to return. `a.b` drills into an object, `a(b,c)` picks several fields inside one, and both reach
 * into every element of an array (`tracks.items(track(name,id))`); `!name` leaves a field out
 * (`album(!name,href)`). Fields the object does not have are simply absent.
 *
 * Choices where the spec's description is silent [UNCONF]: a group that only excludes keeps every other
 * field; `!` goes before a plain field name only; a sub-selection of a value that is not an object
 * (a string, or `track: null`) keeps the value; spaces between tokens are ignored; the order of the
 * fields is the object's own, not the filter's.
 */

/** What to keep of one object: named fields (null: the whole value, else a filter for it), minus `exclude`. */
export interface FieldFilter {
  include: Map<string, FieldFilter | null>;
  exclude: Set<string>;
}

/** A `fields` value that does not parse; the pipeline answers it with a 400. */
export class FieldsSyntaxError extends Error {
  override name = 'FieldsSyntaxError';
}

/** Deeper than any Spotify object; it bounds the recursion for hostile input. */
const MAX_DEPTH = 32;
const NAME = /[A-Za-z0-9_]/;

function emptyFilter(): FieldFilter {
  return { include: new Map(), exclude: new Set() };
}

function merge(into: FieldFilter, name: string, sub: FieldFilter | null): void {
  if (!into.include.has(name)) {
    into.include.set(name, sub);
    return;
  }
  const existing = into.include.get(name) ?? null;
  // Asking for the whole field once wins over any narrower request for it.
  if (existing === null || sub === null) {
    into.include.set(name, null);
    return;
  }
  for (const [key, value] of sub.include) merge(existing, key, value);
  for (const key of sub.exclude) existing.exclude.add(key);
}

/** Parses a `fields` value; throws FieldsSyntaxError. */
export function parseFields(text: string): FieldFilter {
  let pos = 0;

  const fail = (what: string): never => {
    throw new FieldsSyntaxError(`${what} at position ${pos}`);
  };
  const skipSpaces = () => {
    while (text[pos] === ' ') pos++;
  };
  const name = (): string => {
    skipSpaces();
    const start = pos;
    while (pos < text.length && NAME.test(text[pos] ?? '')) pos++;
    if (pos === start) fail(pos < text.length ? `unexpected "${text[pos]}"` : 'a field name is missing');
    const value = text.slice(start, pos);
    skipSpaces();
    return value;
  };

  /** One item of a list, added to `into`: `!name`, `name`, `name.item` or `name(list)`. */
  const item = (into: FieldFilter, depth: number): void => {
    if (depth > MAX_DEPTH) fail('too deeply nested');
    skipSpaces();
    if (text[pos] === '!') {
      pos++;
      const excluded = name();
      if (text[pos] === '.' || text[pos] === '(') fail('"!" applies to a plain field name only');
      into.exclude.add(excluded);
      return;
    }
    const field = name();
    if (text[pos] === '.') {
      pos++;
      const sub = emptyFilter();
      item(sub, depth + 1);
      merge(into, field, sub);
    } else if (text[pos] === '(') {
      pos++;
      const sub = emptyFilter();
      list(sub, depth + 1);
      if (text[pos] !== ')') fail('")" expected');
      pos++;
      skipSpaces();
      merge(into, field, sub);
    } else {
      merge(into, field, null);
    }
  };

  const list = (into: FieldFilter, depth: number): void => {
    item(into, depth);
    while (text[pos] === ',') {
      pos++;
      item(into, depth);
    }
  };

  const root = emptyFilter();
  list(root, 0);
  if (pos < text.length) fail(`unexpected "${text[pos]}"`);
  return root;
}

/** The value with only the fields the filter asks for (a new value; the input is not changed). */
export function applyFields(value: unknown, filter: FieldFilter): unknown {
  if (Array.isArray(value)) return value.map((element) => applyFields(element, filter));
  if (typeof value !== 'object' || value === null) return value;
  const onlyExcludes = filter.include.size === 0;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (filter.exclude.has(key)) continue;
    if (onlyExcludes) {
      out[key] = field;
      continue;
    }
    if (!filter.include.has(key)) continue;
    const sub = filter.include.get(key) ?? null;
    out[key] = sub === null ? field : applyFields(field, sub);
  }
  return out;
}
