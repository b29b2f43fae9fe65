/**
 * A binary min-heap: `pop()` returns the item that sorts first under `compare` (negative when
 * `a` comes before `b`, as for `Array.prototype.sort`). Push and pop are O(log n); peek is O(1).
 * @example
 * const due = new BinaryHeap<{ at: number }>((a, b) => a.at - b.at);
 * due.push({ at: 30 }); due.push({ at: 10 });
 * due.pop(); // { at: 10 }
 */
export class BinaryHeap<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly compare: (a: T, b: T) => number,
    initial?: Iterable<T>,
  ) {
    if (initial) {
      for (const item of initial) this.items.push(item);
      this.heapify();
    }
  }

  /** Number of items held. */
  get size(): number {
    return this.items.length;
  }

  /** The first item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  /** Removes and returns the first item; undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const first = items[0] as T;
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      this.siftDown(0);
    }
    return first;
  }

  /**
   * The first items in heap order, left in place: stops at `limit` items that `accept` takes,
   * or at the first item `isPast` says is beyond the range (everything after it is too).
   * O(k log k) for k items visited, however large the heap: it walks the tree from the root
   * with a small frontier heap of positions instead of popping and pushing back.
   */
  firstItems(limit: number, isPast: (item: T) => boolean, accept: (item: T) => boolean): T[] {
    const items = this.items;
    const found: T[] = [];
    if (items.length === 0 || limit <= 0) return found;
    const frontier = new BinaryHeap<number>((i, j) => this.compare(items[i] as T, items[j] as T));
    frontier.push(0);
    while (found.length < limit && frontier.size > 0) {
      const index = frontier.pop() as number;
      const item = items[index] as T;
      if (isPast(item)) break;
      if (accept(item)) found.push(item);
      const left = 2 * index + 1;
      if (left < items.length) frontier.push(left);
      if (left + 1 < items.length) frontier.push(left + 1);
    }
    return found;
  }

  /** Removes one occurrence of `item` (compared with `===`). O(n). Returns whether it was there. */
  remove(item: T): boolean {
    const items = this.items;
    const index = items.indexOf(item);
    if (index < 0) return false;
    const last = items.pop() as T;
    if (index < items.length) {
      items[index] = last;
      this.siftDown(index);
      this.siftUp(index);
    }
    return true;
  }

  /** Keeps only the items for which `keep` returns true. O(n). Returns how many were removed. */
  retain(keep: (item: T) => boolean): number {
    const before = this.items.length;
    let write = 0;
    for (const item of this.items) if (keep(item)) this.items[write++] = item;
    this.items.length = write;
    this.heapify();
    return before - write;
  }

  clear(): void {
    this.items.length = 0;
  }

  /** A snapshot of the items in no particular order. */
  toArray(): T[] {
    return this.items.slice();
  }

  private heapify(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(index: number): void {
    const items = this.items;
    const item = items[index] as T;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as T;
      if (this.compare(item, parent) >= 0) break;
      items[i] = parent;
      i = parentIndex;
    }
    items[i] = item;
  }

  private siftDown(index: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[index] as T;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.compare(items[right] as T, items[left] as T) < 0) child = right;
      const childItem = items[child] as T;
      if (this.compare(childItem, item) >= 0) break;
      items[i] = childItem;
      i = child;
    }
    items[i] = item;
  }
}
