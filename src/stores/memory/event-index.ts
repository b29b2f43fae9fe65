import { compareStrings } from './records.js';

/** One trigger of an {@link EventIndex} list: its id and `createdAt` (epoch ms). */
interface EventEntry {
  createdAt: number;
  id: string;
}

function byCreation(a: EventEntry, b: EventEntry): number {
  return a.createdAt - b.createdAt || compareStrings(a.id, b.id);
}

/**
 * Active event triggers by event name, each name's list kept sorted by (`createdAt`, `id`), the
 * order `findEventTriggers` pages in. A page is a slice: O(log k + page) for k triggers on that
 * event; adding or removing one is a binary search and an array splice (new triggers, the
 * usual case, land at the end). Triggers of other events are never looked at.
 */
export class EventIndex {
  private readonly byEvent = new Map<string, EventEntry[]>();

  add(event: string, createdAt: number, id: string): void {
    let entries = this.byEvent.get(event);
    if (!entries) {
      entries = [];
      this.byEvent.set(event, entries);
    }
    const entry = { createdAt, id };
    entries.splice(lowerBound(entries, entry), 0, entry);
  }

  /** Removes the entry added with the same arguments; nothing when it is not there. */
  remove(event: string, createdAt: number, id: string): void {
    const entries = this.byEvent.get(event);
    if (!entries) return;
    const index = lowerBound(entries, { createdAt, id });
    if (entries[index]?.id !== id) return;
    entries.splice(index, 1);
    if (entries.length === 0) this.byEvent.delete(event);
  }

  /** Ids of the triggers of `event`, in (`createdAt`, `id`) order, `limit` from `offset`. */
  page(event: string, limit: number, offset: number): string[] {
    const entries = this.byEvent.get(event);
    if (!entries) return [];
    const from = Math.max(0, Math.floor(offset));
    return entries.slice(from, from + Math.max(0, Math.floor(limit))).map((entry) => entry.id);
  }
}

/** The first position whose entry does not sort before `key`. */
function lowerBound(entries: readonly EventEntry[], key: EventEntry): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (byCreation(entries[middle] as EventEntry, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
