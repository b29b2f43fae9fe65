import { BinaryHeap } from '../../heap.js';

/**
 * One entry of a {@link TimeIndex}: record `id` at instant `at` (epoch ms), as of the record's
 * write sequence number `seq`. An entry is live while the record still has that `seq`.
 */
export interface TimedRef {
  at: number;
  id: string;
  seq: number;
}

/** Entries below this many are never worth compacting away. */
const COMPACT_SLACK = 1_024;

// Ties by write sequence (unique per table, a number compare), not by id (a string compare).
function byInstant(a: TimedRef, b: TimedRef): number {
  return a.at - b.at || a.seq - b.seq;
}

/**
 * Records ordered by an instant (next fire time, lease expiry, retention expiry), for
 * "earliest k at or before t" in O(k log n). Rewriting a record does not touch the index: the
 * store adds a new entry and the old one, whose `seq` no longer matches, is dropped lazily
 * when it reaches the top, or by {@link TimeIndex.compactIfBloated}.
 */
export class TimeIndex {
  private readonly heap = new BinaryHeap<TimedRef>(byInstant);

  constructor(private readonly isLive: (ref: TimedRef) => boolean) {}

  /** Entries held, stale ones included. */
  get size(): number {
    return this.heap.size;
  }

  add(at: number, id: string, seq: number): void {
    this.heap.push({ at, id, seq });
  }

  /** The earliest live entries with `at <= until`, at most `limit`, left in the index. */
  peekDue(until: number, limit: number): TimedRef[] {
    // Stale entries at the top go for good (each once): the walk below would pass them every time.
    for (let top = this.heap.peek(); top && !this.isLive(top); top = this.heap.peek()) this.heap.pop();
    return this.heap.firstItems(limit, (ref) => ref.at > until, this.isLive);
  }

  /**
   * The earliest live entries with `at <= until` that `accept` takes (all by default), at most
   * `limit`, removed from the index; live entries passed over stay in it.
   */
  takeDue(until: number, limit: number, accept?: (ref: TimedRef) => boolean): TimedRef[] {
    const due: TimedRef[] = [];
    const passed: TimedRef[] = [];
    while (due.length < limit) {
      const top = this.heap.peek();
      if (!top || top.at > until) break;
      this.heap.pop();
      if (!this.isLive(top)) continue;
      if (!accept || accept(top)) due.push(top);
      else passed.push(top);
    }
    for (const ref of passed) this.heap.push(ref);
    return due;
  }

  /** Drops stale entries once they outnumber the `live` ones, keeping memory proportional. */
  compactIfBloated(live: number): void {
    if (this.heap.size > 2 * live + COMPACT_SLACK) this.heap.retain(this.isLive);
  }
}
