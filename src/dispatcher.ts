import type { TimerHandle } from './clock.js';
import type { Engine } from './engine.js';
import { planSlot, type ClaimAtFire, type Plan, type SlotMemo } from './slot-plan.js';
import { BinaryHeap } from './stores/memory/heap.js';
import type { SlotFire, SlotFireResult } from './stores/types.js';
import type { TriggerRecord } from './types.js';
import type { LocalChanges } from './local-changes.js';
import type { Reporter } from './reporter.js';
import { StoreError } from './errors.js';
import { FireRetries, fireRetryDelayMs } from './fire-retries.js';

/** Triggers fired per store round trip. */
const FIRE_BATCH = 500;
/** Triggers loaded per window query. */
const WINDOW_LIMIT = 10_000;

/** The executor's side of the dispatcher: claims at fire, and a wake-up when pending runs were stored. */
export interface RunTaker extends ClaimAtFire {
  wake(): void;
}

interface Entry {
  trigger: TriggerRecord;
  at: number;
  /** Consecutive times the store answered `failed` for this slot (its retry backs off). */
  failures?: number;
}

/** Due slots taken from the window and planned, ready for `fireSlots`. */
interface Batch {
  now: Date;
  batch: Entry[];
  plans: Plan[];
}

/**
 * Holds the triggers due within the look-ahead window in a min-heap by `nextFireAt`, with one
 * timer for the earliest, so a slot fires at its due time rather than at the next poll. Firing
 * goes through `store.fireSlots`, whose deterministic run id per slot makes each slot fire once
 * across all instances. The poll only refreshes the window.
 */
export class Dispatcher {
  private heap = new BinaryHeap<Entry>((a, b) => a.at - b.at);
  /** The entry currently valid for each trigger id; heap entries not in here are stale. */
  private current = new Map<string, Entry>();
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private active = false;
  private firing: Promise<void> | null = null;
  private fireAgain = false;
  private windowEnd = 0;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** After a failed `fireSlots`: consecutive failures, and no firing before `retryAt` (epoch ms). */
  private failures = 0;
  private retryAt = 0;
  /** Wake-ups for jittered runs, by the instant they become claimable. */
  private readonly wakeTimers = new Map<number, TimerHandle>();
  /**
   * Versions this instance moved past (a slot it fired, a trigger it deleted) while a window
   * read was in flight: that read may return the old version, which must not come back (its
   * slot would be fired again and refused as stale). `seq` counts the refreshes started when
   * the entry was written; it is dropped once no refresh that old is in flight.
   */
  private readonly superseded = new Map<string, { version: number; seq: number }>();
  private refreshSeq = 0;
  private readonly refreshesInFlight = new Set<number>();
  /** A refresh asked for during a firing pass runs once the pass ends (the pass's own writes notify too). */
  private refreshAfterFiring = false;
  /** The last window read hit WINDOW_LIMIT: more triggers are due than it holds. */
  private windowFull = false;
  /** Tokens of fires to be sent again. */
  private readonly retries = new FireRetries();

  /**
   * `executor` takes the runs this dispatcher creates: woken when pending runs were stored, and
   * asked to claim runs at fire. Trigger changes made here by the API or the executor arrive
   * through `changes`.
   */
  constructor(
    private readonly engine: Engine,
    private readonly reporter: Reporter,
    private readonly executor: RunTaker,
    changes: LocalChanges,
  ) {
    changes.onTriggerChanged((trigger, id) => this.triggerChanged(trigger, id));
  }

  /** Triggers held in the window. */
  get depth(): number {
    return this.current.size;
  }

  start(): void {
    this.active = true;
  }

  async stop(): Promise<void> {
    this.active = false;
    this.disarm();
    for (const timer of this.wakeTimers.values()) this.engine.options.clock.clearTimeout(timer);
    this.wakeTimers.clear();
    await this.firing;
    this.heap = new BinaryHeap<Entry>((a, b) => a.at - b.at);
    this.current.clear();
    this.superseded.clear();
    this.retries.clear();
  }

  /** Coalesces refresh requests (change notifications) into at most one running and one queued. */
  requestRefresh(): void {
    if (this.firing) {
      this.refreshAfterFiring = true;
      return;
    }
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = null;
      if (this.refreshAgain) {
        this.refreshAgain = false;
        this.requestRefresh();
      }
    });
  }

  /** Reloads the window from the store (poll, or a change notification). */
  async refresh(): Promise<void> {
    if (!this.active) return;
    const now = this.engine.now().getTime();
    const until = now + this.engine.options.lookaheadMs;
    const seq = ++this.refreshSeq;
    this.refreshesInFlight.add(seq);
    try {
      const due = await this.engine.store.findDueTriggers(new Date(until), WINDOW_LIMIT);
      this.reporter.succeeded('findDueTriggers');
      this.windowFull = due.length === WINDOW_LIMIT;
      this.windowEnd = this.windowFull ? (due[due.length - 1]?.nextFireAt?.getTime() ?? until) : until;
      for (const trigger of due) this.hold(trigger);
    } catch (error) {
      this.reporter.failed('findDueTriggers', error);
    } finally {
      this.refreshesInFlight.delete(seq);
      this.pruneSuperseded();
    }
    this.schedule();
  }

  /** Remembers that `version` of a trigger is past, while a window read that may predate it is in flight. */
  private supersede(id: string, version: number): void {
    if (this.refreshesInFlight.size > 0) this.superseded.set(id, { version, seq: this.refreshSeq });
  }

  private pruneSuperseded(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const seq of this.refreshesInFlight) oldest = Math.min(oldest, seq);
    for (const [id, entry] of this.superseded) if (entry.seq < oldest) this.superseded.delete(id);
  }

  /** A trigger changed through this instance (or was deleted: null). */
  triggerChanged(trigger: TriggerRecord | null, id: string): void {
    if (!trigger || trigger.status !== 'active' || trigger.nextFireAt === null) {
      this.current.delete(id);
      this.supersede(id, trigger ? trigger.version : Number.POSITIVE_INFINITY);
      return;
    }
    const held = this.current.get(id);
    if (held && held.trigger.version > trigger.version) return;
    if (trigger.nextFireAt.getTime() <= this.windowEnd || trigger.nextFireAt.getTime() <= this.engine.now().getTime() + this.engine.options.lookaheadMs) {
      this.hold(trigger);
      this.schedule();
    } else {
      this.current.delete(id);
      this.supersede(id, trigger.version);
    }
  }

  private hold(trigger: TriggerRecord): void {
    if (trigger.nextFireAt === null || trigger.status !== 'active') return;
    const gone = this.superseded.get(trigger.id);
    if (gone !== undefined && gone.version >= trigger.version) return;
    const held = this.current.get(trigger.id);
    if (held && held.trigger.version >= trigger.version) return;
    const entry: Entry = { trigger, at: trigger.nextFireAt.getTime() };
    this.current.set(trigger.id, entry);
    this.heap.push(entry);
  }

  /** Arms the single timer for the earliest held slot. */
  private schedule(): void {
    if (!this.active) return;
    this.dropStaleTop();
    const top = this.heap.peek();
    if (!top) return this.disarm();
    const at = Math.max(top.at, this.retryAt);
    if (at >= this.timerAt && this.timer) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.engine.options.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.fireDue();
    }, at - this.engine.now().getTime());
  }

  private disarm(): void {
    if (this.timer) this.engine.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private dropStaleTop(): void {
    for (let top = this.heap.peek(); top && this.current.get(top.trigger.id) !== top; top = this.heap.peek()) this.heap.pop();
  }

  /** Fires every held slot that is due; one pass at a time. */
  fireDue(): Promise<void> {
    if (this.firing) {
      this.fireAgain = true;
      return this.firing;
    }
    this.firing = (async () => {
      do {
        this.fireAgain = false;
        await this.fireBatches();
      } while (this.fireAgain && this.active);
    })().finally(() => {
      this.firing = null;
      this.schedule();
      // A full window half fired: read the next part now rather than at the next poll (a fan-out
      // larger than the window would otherwise fire one window per poll interval).
      if (this.refreshAfterFiring || (this.windowFull && this.current.size < WINDOW_LIMIT / 2)) {
        this.refreshAfterFiring = false;
        this.requestRefresh();
      }
    });
    return this.firing;
  }

  /**
   * Fires due slots in batches. While one batch's `fireSlots` is in flight, the next is taken
   * and planned (CPU here while the store works), so a large fan-out costs per batch the longer
   * of planning and the store's write, not their sum.
   */
  private async fireBatches(): Promise<void> {
    let inFlight: (Batch & { results: Promise<SlotFireResult[]> }) | null = null;
    const memo: SlotMemo = new Map();
    for (;;) {
      const next = this.active ? this.takeBatch(memo) : null;
      if (inFlight && !(await this.settleBatch(inFlight, inFlight.results))) {
        if (next) this.putBack(next);
        return;
      }
      if (!next) return;
      inFlight = { ...next, results: this.engine.store.fireSlots(next.plans.map((p) => p.fire)) };
    }
  }

  /** Takes up to FIRE_BATCH held slots that are due and plans them; null when none is due. */
  private takeBatch(memo: SlotMemo): Batch | null {
    const now = this.engine.now();
    if (now.getTime() < this.retryAt) return null; // backing off after a failed fireSlots
    const batch: Entry[] = [];
    this.dropStaleTop();
    for (let top = this.heap.peek(); top && top.at <= now.getTime() && batch.length < FIRE_BATCH; top = this.heap.peek()) {
      this.heap.pop();
      if (this.current.get(top.trigger.id) === top) batch.push(top);
      this.dropStaleTop();
    }
    if (batch.length === 0) return null;
    return { now, batch, plans: batch.map((entry) => this.retries.apply(planSlot(this.engine, this.executor, entry.trigger, now, memo))) };
  }

  /** Applies a batch's results; false when the store failed (the batch is put back for a retry). */
  private async settleBatch({ now, batch, plans }: Batch, pending: Promise<SlotFireResult[]>): Promise<boolean> {
    let results;
    try {
      results = await pending;
      this.reporter.succeeded('fireSlots');
      this.failures = 0;
      this.retryAt = 0;
    } catch (error) {
      // Put them back and retry after a backoff (deterministic run ids make a retry safe), so an
      // outage is not hammered with a retry per tick.
      this.putBack({ now, batch, plans });
      this.reporter.failed('fireSlots', error);
      this.failures++;
      this.retryAt = this.engine.now().getTime() + Math.min(this.engine.options.pollIntervalMs, 50 * 2 ** Math.min(this.failures, 10));
      return false;
    }
    let created = false;
    const reload: string[] = [];
    let failed = 0;
    for (let i = 0; i < batch.length; i++) {
      const { fire, missedFrom, claimed } = plans[i]!;
      const result = results[i];
      if (fire.run && claimed) {
        if (result === 'fired') this.executor.adoptFired(fire.run);
        else this.executor.releaseFired(fire.run);
      }
      if (result === 'failed') {
        failed++;
        this.retries.keep(fire);
        this.retryLater(batch[i]!);
      } else if (result === 'fired') {
        this.retries.forget(fire);
        this.current.delete(fire.triggerId);
        this.afterFired(fire, missedFrom);
        if (fire.run && !claimed) created = true;
        if (fire.run && fire.run.availableAt.getTime() > now.getTime()) this.wakeAt(fire.run.availableAt.getTime());
      } else {
        this.retries.forget(fire);
        if (result === 'duplicate') this.engine.metrics.increment('slotsTakenElsewhere');
        this.current.delete(fire.triggerId);
        reload.push(fire.triggerId);
      }
    }
    if (created) this.executor.wake();
    if (failed > 0) this.reporter.failed('fireSlots', new StoreError(`The store could not write ${failed} slot fire(s); they are retried.`));
    // One round trip per trigger another instance fired or changed: all at once, not one by one.
    await Promise.all(reload.map((id) => this.reload(id)));
    return true;
  }

  /** A batch that was not written goes back to the window; its runs' reserved slots are freed, their tokens kept. */
  private putBack({ batch, plans }: Batch): void {
    for (const entry of batch) this.heap.push(entry);
    for (const { fire, claimed } of plans) {
      this.retries.keep(fire);
      if (fire.run && claimed) this.executor.releaseFired(fire.run);
    }
  }

  /** A fire the store answered `failed` for: only this slot waits, backing off, and is retried with its token. */
  private retryLater(entry: Entry): void {
    if (this.current.get(entry.trigger.id) !== entry) return; // replaced meanwhile by a newer version
    const failures = (entry.failures ?? 0) + 1;
    const at = this.engine.now().getTime() + fireRetryDelayMs(failures, this.engine.options.pollIntervalMs);
    const again: Entry = { trigger: entry.trigger, at, failures };
    this.current.set(entry.trigger.id, again);
    this.heap.push(again);
  }

  /** A jittered run becomes claimable after its slot: wake the executor then, not at the next poll. */
  private wakeAt(at: number): void {
    if (!this.active || this.wakeTimers.has(at)) return;
    const timer = this.engine.options.clock.setTimeout(() => {
      this.wakeTimers.delete(at);
      // Node timers may fire a millisecond before the wall clock reaches `at`.
      if (this.engine.now().getTime() < at) this.wakeAt(at);
      else this.executor.wake();
    }, at - this.engine.now().getTime());
    this.wakeTimers.set(at, timer);
  }

  private afterFired(fire: SlotFire, missedFrom: Date | null): void {
    const { engine } = this;
    const trigger = fire.next;
    if (fire.run) {
      engine.metrics.increment('slotsFired');
      engine.metrics.increment('runsScheduled');
      // A run created already claimed is announced as scheduled, as it was before its claim.
      const run = fire.run;
      if (engine.events.has('run:scheduled')) {
        engine.events.emit('run:scheduled', { run: run.status === 'running' ? { ...run, status: 'pending', attempt: run.attempt - 1, startedAt: null, instanceId: null, lease: null } : run });
      }
    }
    if (missedFrom) {
      engine.events.emit('trigger:misfired', { triggerId: trigger.id, owner: trigger.owner, missedFrom, policy: trigger.misfire, fired: fire.run?.scheduledFor ?? null });
    }
    if (trigger.status === 'completed') engine.events.emit('trigger:completed', { trigger });
    this.triggerChanged(trigger, trigger.id);
  }

  private async reload(id: string): Promise<void> {
    try {
      const fresh = await this.engine.store.getTrigger(id);
      if (fresh) this.triggerChanged(fresh, id);
    } catch (error) {
      this.reporter.failed('getTrigger', error);
    }
  }
}
