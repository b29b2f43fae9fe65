import type { HandlerRegistry } from './registry.js';

/**
 * Task types a claim may take, given the runs of each type this instance holds: every uncapped
 * type, and capped ones with room left; `room` is the smallest room among the capped ones (one
 * claim may return runs of any listed type, so it must fit the tightest cap), infinite when none
 * is capped. Only types with a handler here are listed, so an instance never claims a run it
 * cannot execute (during a rolling deploy, another instance has the handler, or the run waits).
 */
export function typesWithCapacity(registry: Pick<HandlerRegistry, 'types' | 'get'>, held: ReadonlyMap<string, number>): { types: string[]; room: number } {
  let room = Number.POSITIVE_INFINITY;
  const types: string[] = [];
  for (const type of registry.types) {
    const limit = registry.get(type)?.concurrency;
    if (limit === undefined) types.push(type);
    else {
      const left = limit - (held.get(type) ?? 0);
      if (left > 0) {
        types.push(type);
        room = Math.min(room, left);
      }
    }
  }
  return { types, room };
}
