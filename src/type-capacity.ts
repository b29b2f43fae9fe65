import type { HandlerRegistry } from './registry.js';

/**
 * Task types a claim may take, given the runs of each type this instance holds: every uncapped
 * type, and capped ones with room left; `room` is the smallest room among the capped ones (one
 * claim may return runs of any listed type, so it must fit the tightest cap). Undefined when no
 * type is capped: a claim then takes any type.
 */
export function typesWithCapacity(registry: HandlerRegistry, held: ReadonlyMap<string, number>): { types: string[]; room: number } | undefined {
  let capped = false;
  let room = Number.POSITIVE_INFINITY;
  const types: string[] = [];
  for (const type of registry.types) {
    const limit = registry.get(type)?.concurrency;
    if (limit === undefined) types.push(type);
    else {
      capped = true;
      const left = limit - (held.get(type) ?? 0);
      if (left > 0) {
        types.push(type);
        room = Math.min(room, left);
      }
    }
  }
  return capped ? { types, room } : undefined;
}
