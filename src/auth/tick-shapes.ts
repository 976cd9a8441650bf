import { AsyncResource } from 'node:async_hooks';

/** Holds the hidden-class chain of Node's tick objects for the life of the process (see below). */
let anchor: object | undefined;

/**
 * Keeps `process.nextTick` on V8's fast path in a long-running server process. Call it once, early: the
 * handler and the standalone server do.
 *
 * Why: each tick object is an object literal with two computed symbol keys (`{ [async_id_symbol]: …,
 * [trigger_async_id_symbol]: …, callback, args }`, Node's task_queues). V8 links the hidden classes
 * ("maps") of such objects weakly, so a full garbage collection that runs while no tick object is alive
 * drops them, and the next tick builds new ones. Each time, the literal's property-definition feedback
 * sees a new map; after a few it is megamorphic for good, and from then on every `nextTick` defines its
 * properties through the V8 runtime. A process that starts something sizeable (a Fastify app with its
 * routes and plugins, a store, the sandbox's emulator) runs enough full collections to get there, and
 * Node's HTTP and stream code calls `nextTick` several times per request: measured on Node 20, a bare
 * node:http handler in such a process took 18–20 µs of CPU per request, against 13–14 µs in a fresh
 * process or in the same process with this anchor.
 *
 * How: one live object built the same way (same keys, same order, doubles for the ids as Node stores
 * them) keeps that chain of maps alive. The symbols are read off an AsyncResource, which carries the same
 * two. Where they cannot be found (another runtime, another Node), nothing is done.
 */
export function keepTickShapesAlive(): void {
  if (anchor !== undefined) return;
  let symbols: symbol[];
  try {
    symbols = Object.getOwnPropertySymbols(new AsyncResource('spotauth'));
  } catch {
    // A runtime whose node:async_hooks cannot make one: a speed-up is never worth a failed start.
    anchor = {};
    return;
  }
  const asyncId = symbols.find((symbol) => symbol.description === 'async_id_symbol');
  const triggerId = symbols.find((symbol) => symbol.description === 'trigger_async_id_symbol');
  anchor =
    asyncId && triggerId
      ? { [asyncId]: 0.5, [triggerId]: 0.5, callback: keepTickShapesAlive, args: undefined }
      : {};
}
