import { BinaryHeap } from './heap.js';
import type { TriggerRecord } from './types.js';

/** A trigger held in the window, due at `at` (epoch ms). */
export interface WindowEntry {
  readonly trigger: TriggerRecord;
  readonly at: number;
  /** Consecutive times the store answered `failed` for this slot (its retry backs off). */
  readonly failures?: number;
}

const byDueTime = (a: WindowEntry, b: WindowEntry): number => a.at - b.at;

/**
 * The dispatcher's window: the triggers due within the look-ahead, in a min-heap by due time,
 * one current entry per trigger (heap entries no longer current are stale and skipped). It also
 * remembers the versions this instance moved past while a window read was in flight, so the
 * read's older copy of a trigger does not come back.
 */
export class DueWindow {
  private heap = new BinaryHeap<WindowEntry>(byDueTime);
  /** The entry currently valid for each trigger id; heap entries not in here are stale. */
  private readonly current = new Map<string, WindowEntry>();
  /**
   * Versions this instance moved past (a slot it fired, a trigger it deleted) while a window
   * read was in flight: that read may return the old version, which must not come back (its
   * slot would be fired again and refused as stale). `seq` counts the reads started when the
   * entry was written; it is dropped once no read that old is in flight.
   */
  private readonly superseded = new Map<string, { version: number; seq: number }>();
  private readSeq = 0;
  private readonly readsInFlight = new Set<number>();

  /** Triggers held. */
  get size(): number {
    return this.current.size;
  }

  /** The version held for a trigger, if any. */
  heldVersion(id: string): number | undefined {
    return this.current.get(id)?.trigger.version;
  }

  /** Holds an active trigger's next slot, unless a newer version is held or was moved past. */
  hold(trigger: TriggerRecord): void {
    if (trigger.nextFireAt === null || trigger.status !== 'active') return;
    const gone = this.superseded.get(trigger.id);
    if (gone !== undefined && gone.version >= trigger.version) return;
    const held = this.current.get(trigger.id);
    if (held && held.trigger.version >= trigger.version) return;
    const entry: WindowEntry = { trigger, at: trigger.nextFireAt.getTime() };
    this.current.set(trigger.id, entry);
    this.heap.push(entry);
  }

  /** Drops a trigger whose `version` is past here (changed, deleted: infinite version). */
  drop(id: string, version: number): void {
    this.current.delete(id);
    if (this.readsInFlight.size > 0) this.superseded.set(id, { version, seq: this.readSeq });
  }

  /** Forgets a trigger's entry (its slot fired, or the store holds a newer version to reload). */
  forget(id: string): void {
    this.current.delete(id);
  }

  /** When the earliest held slot is due (epoch ms), or undefined when none is held. */
  earliest(): number | undefined {
    this.dropStaleTop();
    return this.heap.peek()?.at;
  }

  /** Takes up to `max` held entries due at `now` (epoch ms), earliest first. They stay current until forgotten. */
  takeDue(now: number, max: number): WindowEntry[] {
    const due: WindowEntry[] = [];
    this.dropStaleTop();
    for (let top = this.heap.peek(); top && top.at <= now && due.length < max; top = this.heap.peek()) {
      this.heap.pop();
      if (this.current.get(top.trigger.id) === top) due.push(top);
      this.dropStaleTop();
    }
    return due;
  }

  /** Entries taken but not fired go back (a failed batch). */
  putBack(entries: readonly WindowEntry[]): void {
    for (const entry of entries) this.heap.push(entry);
  }

  /** A slot the store answered `failed` for waits until `at` (unless a newer version replaced it meanwhile). */
  retryAt(entry: WindowEntry, at: number): void {
    if (this.current.get(entry.trigger.id) !== entry) return;
    const again: WindowEntry = { trigger: entry.trigger, at, failures: (entry.failures ?? 0) + 1 };
    this.current.set(entry.trigger.id, again);
    this.heap.push(again);
  }

  /** A window read starts: versions moved past from now on are remembered until it ends. */
  beginRead(): number {
    const seq = ++this.readSeq;
    this.readsInFlight.add(seq);
    return seq;
  }

  endRead(seq: number): void {
    this.readsInFlight.delete(seq);
    let oldest = Number.POSITIVE_INFINITY;
    for (const inFlight of this.readsInFlight) oldest = Math.min(oldest, inFlight);
    for (const [id, entry] of this.superseded) if (entry.seq < oldest) this.superseded.delete(id);
  }

  clear(): void {
    this.heap = new BinaryHeap<WindowEntry>(byDueTime);
    this.current.clear();
    this.superseded.clear();
  }

  private dropStaleTop(): void {
    for (let top = this.heap.peek(); top && this.current.get(top.trigger.id) !== top; top = this.heap.peek()) this.heap.pop();
  }
}
