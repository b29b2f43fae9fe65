import type { TimerHandle } from './clock.js';
import { buildRun, slotRunId, type Engine } from './engine.js';
import { latestSlotAtOrBefore, nextSlot } from './slots.js';
import { BinaryHeap } from './stores/memory/heap.js';
import type { SlotFire } from './stores/types.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** Triggers fired per store round trip. */
const FIRE_BATCH = 500;
/** Misfire policy `all` replays at most this far back. */
export const CATCH_UP_WINDOW_MS = 86_400_000;
/** Triggers loaded per window query. */
const WINDOW_LIMIT = 10_000;

interface Entry {
  trigger: TriggerRecord;
  at: number;
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
  /** Wake-ups for jittered runs, by the instant they become claimable. */
  private readonly wakeTimers = new Map<number, TimerHandle>();

  constructor(
    private readonly engine: Engine,
    private readonly onRunsCreated: () => void,
    private readonly reportError: (operation: string, error: unknown) => void,
    private readonly reportOk: (operation: string) => void,
  ) {}

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
  }

  /** Coalesces refresh requests (change notifications) into at most one running and one queued. */
  requestRefresh(): void {
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
    try {
      const due = await this.engine.store.findDueTriggers(new Date(until), WINDOW_LIMIT);
      this.reportOk('findDueTriggers');
      this.windowEnd = due.length === WINDOW_LIMIT ? (due[due.length - 1]?.nextFireAt?.getTime() ?? until) : until;
      for (const trigger of due) this.hold(trigger);
    } catch (error) {
      this.reportError('findDueTriggers', error);
    }
    this.schedule();
  }

  /** A trigger changed through this instance (or was deleted: null). */
  triggerChanged(trigger: TriggerRecord | null, id: string): void {
    if (!trigger || trigger.status !== 'active' || trigger.nextFireAt === null) {
      this.current.delete(id);
      return;
    }
    const held = this.current.get(id);
    if (held && held.trigger.version > trigger.version) return;
    if (trigger.nextFireAt.getTime() <= this.windowEnd || trigger.nextFireAt.getTime() <= this.engine.now().getTime() + this.engine.options.lookaheadMs) {
      this.hold(trigger);
      this.schedule();
    } else {
      this.current.delete(id);
    }
  }

  private hold(trigger: TriggerRecord): void {
    if (trigger.nextFireAt === null || trigger.status !== 'active') return;
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
    if (top.at >= this.timerAt && this.timer) return;
    this.disarm();
    this.timerAt = top.at;
    this.timer = this.engine.options.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.fireDue();
    }, top.at - this.engine.now().getTime());
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
    });
    return this.firing;
  }

  private async fireBatches(): Promise<void> {
    for (;;) {
      if (!this.active) return;
      const now = this.engine.now();
      const batch: Entry[] = [];
      this.dropStaleTop();
      for (let top = this.heap.peek(); top && top.at <= now.getTime() && batch.length < FIRE_BATCH; top = this.heap.peek()) {
        this.heap.pop();
        if (this.current.get(top.trigger.id) === top) batch.push(top);
        this.dropStaleTop();
      }
      if (batch.length === 0) return;
      const plans = batch.map((entry) => this.plan(entry.trigger, now));
      let results;
      try {
        results = await this.engine.store.fireSlots(plans.map((p) => p.fire));
        this.reportOk('fireSlots');
      } catch (error) {
        // Put them back; the poll or the next timer retries. Deterministic run ids make a retry safe.
        for (const entry of batch) this.heap.push(entry);
        this.reportError('fireSlots', error);
        return;
      }
      let created = false;
      for (let i = 0; i < batch.length; i++) {
        const { fire, missedFrom } = plans[i]!;
        const result = results[i];
        if (result === 'fired') {
          this.current.delete(fire.triggerId);
          this.afterFired(fire, missedFrom);
          if (fire.run) created = true;
          if (fire.run && fire.run.availableAt.getTime() > now.getTime()) this.wakeAt(fire.run.availableAt.getTime());
        } else {
          if (result === 'duplicate') this.engine.metrics.increment('slotsTakenElsewhere');
          this.current.delete(fire.triggerId);
          await this.reload(fire.triggerId);
        }
      }
      if (created) this.onRunsCreated();
    }
  }

  /** A jittered run becomes claimable after its slot: wake the executor then, not at the next poll. */
  private wakeAt(at: number): void {
    if (!this.active || this.wakeTimers.has(at)) return;
    const timer = this.engine.options.clock.setTimeout(() => {
      this.wakeTimers.delete(at);
      // Node timers may fire a millisecond before the wall clock reaches `at`.
      if (this.engine.now().getTime() < at) this.wakeAt(at);
      else this.onRunsCreated();
    }, at - this.engine.now().getTime());
    this.wakeTimers.set(at, timer);
  }

  private afterFired(fire: SlotFire, missedFrom: Date | null): void {
    const { engine } = this;
    const trigger = fire.next;
    if (fire.run) {
      engine.metrics.increment('slotsFired');
      engine.metrics.increment('runsScheduled');
      engine.events.emit('run:scheduled', { run: fire.run });
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
      this.reportError('getTrigger', error);
    }
  }

  /** Decides the run (if any) and the next slot for a due trigger, applying its misfire policy, bounds, calendars and jitter. */
  private plan(trigger: TriggerRecord, now: Date): { fire: SlotFire; missedFrom: Date | null } {
    const { calendars, random } = this.engine.options;
    const due = trigger.nextFireAt as Date;
    const missed = now.getTime() - due.getTime() > trigger.misfireGraceMs;
    let slot: Date | null = due;
    if (missed && trigger.misfire === 'skip') {
      // Only the missed slots are skipped: the latest one still fires if it is within the grace.
      const latest = latestSlotAtOrBefore(trigger, due, now, calendars);
      slot = now.getTime() - latest.getTime() <= trigger.misfireGraceMs ? latest : null;
    } else if (missed && trigger.misfire === 'once') {
      slot = latestSlotAtOrBefore(trigger, due, now, calendars);
    } else if (missed && now.getTime() - due.getTime() > CATCH_UP_WINDOW_MS) {
      // `all` replays the missed slots of the last day at most; older ones are skipped.
      const first = nextSlot(trigger, new Date(now.getTime() - CATCH_UP_WINDOW_MS - 1), calendars);
      slot = first !== null && first.getTime() <= now.getTime() ? first : null;
    }
    const runCount = trigger.runCount + (slot ? 1 : 0);
    const next = nextSlot(trigger, slot ?? now, calendars, runCount);
    const jitterMs = trigger.timing?.jitterMs ?? 0;
    const run: RunRecord | null = slot
      ? buildRun(this.engine, trigger, {
          id: slotRunId(trigger.id, slot),
          source: 'schedule',
          scheduledFor: slot,
          ...(jitterMs > 0 ? { availableAt: new Date(slot.getTime() + Math.floor(random() * jitterMs)) } : {}),
        })
      : null;
    const nextTrigger: TriggerRecord = {
      ...trigger,
      nextFireAt: next,
      status: next === null ? 'completed' : trigger.status,
      runCount,
      updatedAt: now,
      version: trigger.version + 1,
    };
    return { fire: { triggerId: trigger.id, expectedVersion: trigger.version, next: nextTrigger, run }, missedFrom: missed ? due : null };
  }
}
