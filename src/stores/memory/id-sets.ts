/**
 * Ids grouped by a key (runs by trigger, runs by owner). A key with a single id holds the id
 * itself and gets a `Set` only with its second: a fan-out of 100,000 triggers creates 100,000
 * keys with one run each, and a `Set` apiece was most of their index's memory and time.
 */
export class IdSets {
  private readonly byKey = new Map<string, string | Set<string>>();

  add(key: string, id: string): void {
    const held = this.byKey.get(key);
    if (held === undefined) this.byKey.set(key, id);
    else if (typeof held !== 'string') held.add(id);
    else if (held !== id) this.byKey.set(key, new Set([held, id]));
  }

  remove(key: string, id: string): void {
    const held = this.byKey.get(key);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === id) this.byKey.delete(key);
      return;
    }
    held.delete(id);
    if (held.size === 0) this.byKey.delete(key);
  }

  /** The ids under `key`, live: copy before changing the index while iterating. */
  ids(key: string): Iterable<string> {
    const held = this.byKey.get(key);
    return held === undefined ? [] : typeof held === 'string' ? [held] : held;
  }
}
