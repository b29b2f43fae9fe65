import type { TimerHandle } from './clock.js';
import type { ClaimAtFire, FirePlan } from './claim-at-fire.js';
import { DueWindow, type WindowEntry } from './due-window.js';
import type { EventBus } from './events.js';
import type { LocalChanges } from './local-changes.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { Reporter } from './reporter.js';
import type { SlotMemo } from './slot-plan.js';
import type { SlotFire, SlotFireResult, Store } from './stores/types.js';
import type { TriggerRecord } from './types.js';
import type { Wakeups } from './wake-timers.js';
import { StoreError } from './errors.js';
import { announceFired } from './fire-events.js';
import { fireRetryDelayMs, type FireRetries } from './fire-retries.js';

/** Triggers fired per store round trip. */
const FIRE_BATCH = 500;
/** Triggers loaded per window query; a full read doubles the next one's limit, up to the max. */
const WINDOW_LIMIT = 10_000;
const WINDOW_LIMIT_MAX = 80_000;

/** What the dispatcher needs: window reads, the events and counters of firing, and its timing options. */
export interface DispatcherContext {
  readonly store: Pick<Store, 'findDueTriggers' | 'getTrigger'>;
  readonly events: EventBus;
  readonly metrics: Pick<Metrics, 'increment'>;
  readonly options: Pick<ResolvedOptions, 'clock' | 'lookaheadMs' | 'pollIntervalMs'>;
}

/** Due slots taken from the window and planned, ready for `fireSlots`. */
interface Batch {
  now: number;
  entries: WindowEntry[];
  plans: FirePlan[];
}

/**
 * Holds the triggers due within the look-ahead window (`DueWindow`), with one timer for the
 * earliest, so a slot fires at its due time rather than at the next poll. Firing goes through
 * `ClaimAtFire` (plan, reserve, `store.fireSlots`, adopt or release), whose deterministic run id
 * per slot makes each slot fire once across all instances. The poll only refreshes the window.
 */
export class Dispatcher {
  private readonly window = new DueWindow();
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
  /** A refresh asked for during a firing pass runs once the pass ends (the pass's own writes notify too). */
  private refreshAfterFiring = false;
  /** The last read hit its limit (more are due than it holds): the next read's limit doubles. */
  private windowFull = false;
  /** The limit of the last read. */
  private readLimit = WINDOW_LIMIT;

  /**
   * `claims` fires slots (claiming their runs at fire when the executor has room); the executor
   * is woken through `wakeups` when pending runs were stored (or at a jittered run's time). Trigger changes made here by the API or the executor
   * arrive through `changes`.
   */
  constructor(
    private readonly ctx: DispatcherContext,
    private readonly reporter: Reporter,
    private readonly claims: ClaimAtFire,
    private readonly retries: FireRetries,
    private readonly wakeups: Pick<Wakeups, 'now' | 'at'>,
    changes: LocalChanges,
  ) {
    changes.onTriggerChanged((trigger, id) => this.triggerChanged(trigger, id));
  }

  /** Triggers held in the window. */
  get depth(): number {
    return this.window.size;
  }

  start(): void {
    this.active = true;
  }

  async stop(): Promise<void> {
    this.active = false;
    this.disarm();
    await this.firing;
    this.window.clear();
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
    const until = this.ctx.options.clock.now() + this.ctx.options.lookaheadMs;
    const seq = this.window.beginRead();
    try {
      const limit = this.windowFull ? Math.min(2 * this.readLimit, WINDOW_LIMIT_MAX) : WINDOW_LIMIT;
      const due = await this.ctx.store.findDueTriggers(new Date(until), limit);
      this.reporter.succeeded('findDueTriggers');
      this.readLimit = limit;
      this.windowFull = due.length === limit;
      this.windowEnd = this.windowFull ? (due[due.length - 1]?.nextFireAt?.getTime() ?? until) : until;
      for (const trigger of due) this.window.hold(trigger);
    } catch (error) {
      this.reporter.failed('findDueTriggers', error);
    } finally {
      this.window.endRead(seq);
    }
    this.schedule();
  }

  /** A trigger changed through this instance (or was deleted: null). */
  triggerChanged(trigger: TriggerRecord | null, id: string): void {
    if (!trigger || trigger.status !== 'active' || trigger.nextFireAt === null) {
      this.window.drop(id, trigger ? trigger.version : Number.POSITIVE_INFINITY);
      return;
    }
    const held = this.window.heldVersion(id);
    if (held !== undefined && held > trigger.version) return;
    const at = trigger.nextFireAt.getTime();
    if (at <= this.windowEnd || at <= this.ctx.options.clock.now() + this.ctx.options.lookaheadMs) {
      this.window.hold(trigger);
      this.schedule();
    } else {
      this.window.drop(id, trigger.version);
    }
  }

  /** Arms the single timer for the earliest held slot. */
  private schedule(): void {
    if (!this.active) return;
    const earliest = this.window.earliest();
    if (earliest === undefined) return this.disarm();
    const at = Math.max(earliest, this.retryAt);
    if (at >= this.timerAt && this.timer) return;
    this.disarm();
    this.timerAt = at;
    const { clock } = this.ctx.options;
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.fireDue();
    }, at - clock.now());
  }

  private disarm(): void {
    if (this.timer) this.ctx.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
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
      if (this.refreshAfterFiring || (this.windowFull && this.window.size < this.readLimit / 2)) {
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
      inFlight = { ...next, results: this.claims.fire(next.plans) };
    }
  }

  /** Takes up to FIRE_BATCH held slots that are due and plans them (claim at fire, steps 1-2); null when none is due. */
  private takeBatch(memo: SlotMemo): Batch | null {
    const now = this.ctx.options.clock.now();
    if (now < this.retryAt) return null; // backing off after a failed fireSlots
    const entries = this.window.takeDue(now, FIRE_BATCH);
    if (entries.length === 0) return null;
    return { now, entries, plans: this.claims.plan(entries.map((entry) => entry.trigger), new Date(now), memo) };
  }

  /** Applies a batch's results; false when the store failed (the batch is put back for a retry). */
  private async settleBatch(batch: Batch, pending: Promise<SlotFireResult[]>): Promise<boolean> {
    let results;
    try {
      results = await pending;
      this.reporter.succeeded('fireSlots');
      this.failures = 0;
      this.retryAt = 0;
    } catch (error) {
      // Put them back and retry after a backoff (deterministic run ids make a retry safe), so an
      // outage is not hammered with a retry per tick.
      this.putBack(batch);
      this.reporter.failed('fireSlots', error);
      this.failures++;
      this.retryAt = this.ctx.options.clock.now() + Math.min(this.ctx.options.pollIntervalMs, 50 * 2 ** Math.min(this.failures, 10));
      return false;
    }
    let created = false;
    const reload: string[] = [];
    let failed = 0;
    for (let i = 0; i < batch.entries.length; i++) {
      const plan = batch.plans[i]!;
      const { fire } = plan;
      const result = results[i];
      this.claims.settle(plan, result);
      if (result === 'failed') {
        failed++;
        this.retries.keep(fire);
        const entry = batch.entries[i]!;
        this.window.retryAt(entry, this.ctx.options.clock.now() + fireRetryDelayMs((entry.failures ?? 0) + 1, this.ctx.options.pollIntervalMs));
      } else if (result === 'fired') {
        this.retries.forget(fire);
        this.window.forget(fire.triggerId);
        this.afterFired(fire, plan.missedFrom);
        if (fire.run && !plan.claimed) created = true;
        // A jittered run becomes claimable after its slot: the executor wakes then, not at the next poll.
        if (fire.run && fire.run.availableAt.getTime() > batch.now) this.wakeups.at(fire.run.availableAt.getTime());
      } else {
        this.retries.forget(fire);
        if (result === 'duplicate') this.ctx.metrics.increment('slotsTakenElsewhere');
        this.window.forget(fire.triggerId);
        reload.push(fire.triggerId);
      }
    }
    if (created) this.wakeups.now();
    if (failed > 0) this.reporter.failed('fireSlots', new StoreError(`The store could not write ${failed} slot fire(s); they are retried.`));
    // One round trip per trigger another instance fired or changed: all at once, not one by one.
    if (reload.length > 0) await Promise.all(reload.map((id) => this.reload(id)));
    return true;
  }

  /** A batch that was not written goes back to the window; its reserved slots are freed, their tokens kept. */
  private putBack({ entries, plans }: Batch): void {
    this.window.putBack(entries);
    for (const { fire } of plans) this.retries.keep(fire);
    this.claims.releaseAll(plans);
  }

  private afterFired(fire: SlotFire, missedFrom: Date | null): void {
    announceFired(this.ctx, fire, missedFrom);
    this.triggerChanged(fire.next, fire.next.id);
  }

  private async reload(id: string): Promise<void> {
    try {
      const fresh = await this.ctx.store.getTrigger(id);
      if (fresh) this.triggerChanged(fresh, id);
    } catch (error) {
      this.reporter.failed('getTrigger', error);
    }
  }
}
