import type { ActiveRun } from './active-run.js';
import { CancelledError } from './errors.js';
import type { FireCapacity } from './claim-at-fire.js';
import type { ResolvedOptions } from './options.js';
import type { HandlerRegistry } from './registry.js';
import { typesWithCapacity } from './type-capacity.js';

/** Runs claimed ahead of free capacity, in claim order (a queue: taking from the front copies nothing). */
export class HeldRuns implements Iterable<ActiveRun> {
  private items: (ActiveRun | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(active: ActiveRun): void {
    this.items.push(active);
  }

  /** The oldest held run, removed; undefined when none. */
  shift(): ActiveRun | undefined {
    if (this.head >= this.items.length) return undefined;
    const active = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) this.compact();
    return active;
  }

  find(test: (active: ActiveRun) => boolean): ActiveRun | undefined {
    for (let i = this.head; i < this.items.length; i++) if (test(this.items[i]!)) return this.items[i];
    return undefined;
  }

  /** Removes and returns the runs that pass `test`, keeping the order of the others. */
  removeWhere(test: (active: ActiveRun) => boolean): ActiveRun[] {
    if (!this.find(test)) return [];
    const all = this.drain();
    const removed = all.filter(test);
    this.items = all.filter((active) => !test(active));
    return removed;
  }

  /** Removes and returns every held run. */
  drain(): ActiveRun[] {
    const all = this.items.slice(this.head) as ActiveRun[];
    this.items = [];
    this.head = 0;
    return all;
  }

  *[Symbol.iterator](): Iterator<ActiveRun> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }

  private compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}

/** What the capacity reads: the handlers (and their per-type caps) and the instance's limits. */
export interface CapacityContext {
  readonly registry: Pick<HandlerRegistry, 'get' | 'types'>;
  readonly options: Pick<ResolvedOptions, 'maxConcurrentRuns' | 'prefetch'>;
}

/**
 * This instance's execution capacity: the runs executing (`active`, by run id), the runs
 * claimed ahead and held for a slot (`held`, with `prefetch`), the slots reserved for runs being
 * created claimed at fire, and how many runs of each task type count against its cap.
 */
export class Capacity implements Omit<FireCapacity, 'adopt'> {
  readonly active = new Map<string, ActiveRun>();
  readonly held = new HeldRuns();
  /** Slots promised to runs being created already claimed (see claim-at-fire.ts). */
  private reserved = 0;
  private readonly perType = new Map<string, number>();
  /** False while stopped: nothing is reserved. */
  accepting = false;

  constructor(private readonly ctx: CapacityContext) {}

  /** Slots free to start a run now. */
  get free(): number {
    return this.ctx.options.maxConcurrentRuns - this.active.size - this.reserved;
  }

  /** How many held runs may start now. */
  get startable(): number {
    return Math.max(0, Math.min(this.held.length, this.free));
  }

  /**
   * What one claim may take now: how many runs (free slots plus the prefetch hold) and of which
   * task types (those with a handler here and room under their cap; one claim may return runs of
   * any listed type, so it must fit the tightest cap). Null when no claim is wanted.
   */
  claimable(): { limit: number; taskTypes: string[] } | null {
    const { prefetch } = this.ctx.options;
    const free = this.free;
    // With every slot busy, the hold is refilled once half of it has been started.
    if (free <= 0 && this.held.length > prefetch / 2) return null;
    const wanted = free + prefetch - this.held.length;
    if (wanted <= 0) return null;
    const { types, room } = typesWithCapacity(this.ctx.registry, this.perType);
    if (types.length === 0) return null;
    return { limit: Math.min(wanted, room), taskTypes: types };
  }

  /** Reserves a slot for a run of `taskType` created claimed at fire: a free slot, a handler here, room under its cap. */
  reserve(taskType: string): boolean {
    if (!this.accepting) return false;
    if (this.active.size + this.held.length + this.reserved >= this.ctx.options.maxConcurrentRuns) return false;
    const handler = this.ctx.registry.get(taskType);
    // No handler here: the run is stored pending for an instance that has one.
    if (!handler || (handler.concurrency !== undefined && (this.perType.get(taskType) ?? 0) >= handler.concurrency)) return false;
    this.reserved++;
    this.count(taskType);
    return true;
  }

  /** A reserved slot passes to its run, which starts now (its count against the cap stays). */
  takeReserved(): void {
    this.reserved--;
  }

  /** A reserved slot is given up. */
  release(taskType: string): void {
    this.reserved--;
    this.uncount(taskType);
  }

  /** Aborts a run executing or held here (cancel requested through this instance). */
  cancel(runId: string): void {
    const run = this.active.get(runId) ?? this.held.find((held) => held.run.id === runId);
    run?.controller.abort(new CancelledError('the run was cancelled'));
  }

  /** A run of `taskType` is held or executing here: it counts against its type's cap. */
  count(taskType: string): void {
    this.perType.set(taskType, (this.perType.get(taskType) ?? 0) + 1);
  }

  uncount(taskType: string): void {
    this.perType.set(taskType, (this.perType.get(taskType) ?? 1) - 1);
  }
}
