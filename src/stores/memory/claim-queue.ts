import { BinaryHeap } from '../../heap.js';

/** A pending run as the claim queue sees it; live while the run still has write sequence `seq`. */
export interface ClaimEntry {
  id: string;
  seq: number;
  taskType: string;
  priority: number;
  /** Epoch ms. */
  availableAt: number;
  /** Epoch ms. */
  scheduledFor: number;
}

/** Entries below this many are never worth compacting away. */
const COMPACT_SLACK = 1_024;

/**
 * Claim order: priority desc, availableAt asc, scheduledFor asc, then write sequence (the order
 * the runs were stored in). `claimRuns` promises priority then availableAt only; a number tie
 * instead of an id compare matters when thousands of runs enqueued together tie on all three.
 */
export function claimOrder(a: ClaimEntry, b: ClaimEntry): number {
  return b.priority - a.priority || a.availableAt - b.availableAt || a.scheduledFor - b.scheduledFor || a.seq - b.seq;
}

function availabilityOrder(a: ClaimEntry, b: ClaimEntry): number {
  return a.availableAt - b.availableAt || claimOrder(a, b);
}

/**
 * Pending runs ordered for claiming. Runs wait in a heap by `availableAt` until a claim at a
 * later `now` moves them to a ready heap of their task type, ordered by {@link claimOrder}; a
 * claim merges the heads of the ready heaps it may take from. So runs available later never
 * block available ones, and a task-type filter never walks over other types' runs.
 * Stale entries (the run was rewritten since) are dropped lazily, as in `TimeIndex`.
 */
export class ClaimQueue {
  private readonly waiting = new BinaryHeap<ClaimEntry>(availabilityOrder);
  private readonly ready = new Map<string, BinaryHeap<ClaimEntry>>();
  /** The latest `now` a claim promoted at: entries available by then may go straight to ready. */
  private promotedUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly isLive: (entry: ClaimEntry) => boolean) {}

  /** Entries held, stale ones included. */
  get size(): number {
    let size = this.waiting.size;
    for (const heap of this.ready.values()) size += heap.size;
    return size;
  }

  add(entry: ClaimEntry): void {
    // Available by the latest claim's clock: straight to the ready heap (one heap push, not two).
    if (entry.availableAt <= this.promotedUntil) this.readyHeap(entry.taskType).push(entry);
    else this.waiting.push(entry);
  }

  /**
   * Removes and returns, in claim order, up to `limit` live entries available at `now`, of the
   * given task types (any when undefined).
   */
  take(now: number, limit: number, taskTypes?: readonly string[]): ClaimEntry[] {
    this.promote(now);
    const heaps = taskTypes
      ? [...new Set(taskTypes)].flatMap((type) => this.ready.get(type) ?? [])
      : [...this.ready.values()];
    const taken: ClaimEntry[] = [];
    // Ready entries not yet available at this `now`: moved there by a claim with a later clock.
    const notYet: ClaimEntry[] = [];
    while (taken.length < limit) {
      let bestHeap: BinaryHeap<ClaimEntry> | undefined;
      let best: ClaimEntry | undefined;
      for (const heap of heaps) {
        const head = this.availableHead(heap, now, notYet);
        if (head && (!best || claimOrder(head, best) < 0)) {
          best = head;
          bestHeap = heap;
        }
      }
      if (!best || !bestHeap) break;
      bestHeap.pop();
      taken.push(best);
    }
    for (const entry of notYet) this.readyHeap(entry.taskType).push(entry);
    for (const [type, heap] of this.ready) if (heap.size === 0) this.ready.delete(type);
    return taken;
  }

  /**
   * Live entries available at `now` whose task type is not in `except`, counted by type with
   * the earliest `availableAt`. Reads without moving anything (a read must not promote).
   */
  countAvailable(now: number, except: ReadonlySet<string>): Map<string, { count: number; oldest: number }> {
    const counts = new Map<string, { count: number; oldest: number }>();
    const visit = (entry: ClaimEntry): void => {
      if (entry.availableAt > now || except.has(entry.taskType) || !this.isLive(entry)) return;
      const seen = counts.get(entry.taskType);
      if (seen) {
        seen.count++;
        seen.oldest = Math.min(seen.oldest, entry.availableAt);
      } else counts.set(entry.taskType, { count: 1, oldest: entry.availableAt });
    };
    for (const entry of this.waiting.toArray()) visit(entry);
    for (const [type, heap] of this.ready) if (!except.has(type)) for (const entry of heap.toArray()) visit(entry);
    return counts;
  }

  /** Drops stale entries once they outnumber the `live` ones. */
  compactIfBloated(live: number): void {
    if (this.size <= 2 * live + COMPACT_SLACK) return;
    this.waiting.retain(this.isLive);
    for (const [type, heap] of this.ready) {
      heap.retain(this.isLive);
      if (heap.size === 0) this.ready.delete(type);
    }
  }

  private promote(now: number): void {
    if (now > this.promotedUntil) this.promotedUntil = now;
    for (let top = this.waiting.peek(); top && top.availableAt <= now; top = this.waiting.peek()) {
      this.waiting.pop();
      if (this.isLive(top)) this.readyHeap(top.taskType).push(top);
    }
  }

  private availableHead(heap: BinaryHeap<ClaimEntry>, now: number, notYet: ClaimEntry[]): ClaimEntry | undefined {
    for (let head = heap.peek(); head; head = heap.peek()) {
      if (!this.isLive(head)) heap.pop();
      else if (head.availableAt > now) notYet.push(heap.pop() as ClaimEntry);
      else return head;
    }
    return undefined;
  }

  private readyHeap(taskType: string): BinaryHeap<ClaimEntry> {
    let heap = this.ready.get(taskType);
    if (!heap) {
      heap = new BinaryHeap(claimOrder);
      this.ready.set(taskType, heap);
    }
    return heap;
  }
}
