import type { Catalogue } from '../catalogue.js';
import { fragment } from './json-fragments.js';

/**
 * The JSON shapes of catalogue entities, built once per entity, origin and mode and then shared (as
 * fragments, json-fragments.ts) by every response that shows them. A shape also shows related entities
 * (a track's album and artists), so a catalogue change drops every shape of that catalogue.
 *
 * Keyed by the entity object itself: declared entities live as long as the catalogue, synthetic ones as
 * long as the catalogue's cache of them keeps them, and their shapes go with them.
 */

/** What a shape depends on besides the entity; the same fields as shapes.ts's Shape. */
interface ShapeKey {
  origin: string;
  dev: boolean;
  catalogue: Catalogue;
}

interface CatalogueShapes {
  generation: number;
  byEntity: WeakMap<object, Map<string, object>>;
}

/** Origins come from the Host header, so a client could send many: past this, an entity's shapes reset. */
const MAX_SHAPES_PER_ENTITY = 16;

const shapes = new WeakMap<Catalogue, CatalogueShapes>();

function shapesOf(catalogue: Catalogue): CatalogueShapes {
  let found = shapes.get(catalogue);
  if (!found || found.generation !== catalogue.generation) {
    found = { generation: catalogue.generation, byEntity: new WeakMap() };
    shapes.set(catalogue, found);
  }
  return found;
}

/** `build`, remembered per entity, origin, mode and `variant` (e.g. an album's album_group). */
export function cachedShape<S extends ShapeKey, E extends object, R extends object>(
  name: string,
  build: (s: S, entity: E, variant?: string) => R,
): (s: S, entity: E, variant?: string) => R {
  return (s, entity, variant) => {
    const { byEntity } = shapesOf(s.catalogue);
    let forEntity = byEntity.get(entity);
    if (!forEntity) {
      forEntity = new Map();
      byEntity.set(entity, forEntity);
    }
    const key = `${name}\n${s.dev ? 1 : 0}\n${variant === undefined ? '-' : `=${variant}`}\n${s.origin}`;
    const known = forEntity.get(key);
    if (known) return known as R;
    const built = fragment(build(s, entity, variant));
    if (forEntity.size >= MAX_SHAPES_PER_ENTITY) forEntity.clear();
    forEntity.set(key, built);
    return built;
  };
}
