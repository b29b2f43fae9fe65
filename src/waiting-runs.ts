import type { HandlerRegistry } from './registry.js';
import type { Store } from './stores/types.js';

/** How often the maintenance loop counts runs waiting for a handler, ms (at most once per poll). */
export const WAITING_CHECK_MS = 10_000;

/** Due pending runs of one task type that has no handler on this instance. */
export interface WaitingRuns {
  count: number;
  /** When the oldest of them became due (its `availableAt`). */
  since: Date;
}

/** What the counter needs: the store, the handled task types, and the time. */
export interface WaitingRunsContext {
  readonly store: Pick<Store, 'countDueRunsByType'>;
  readonly registry: Pick<HandlerRegistry, 'types'>;
  now(): Date;
}

/**
 * Runs waiting for a handler, by task type: due pending runs of task types this instance has no
 * handler for. An instance claims only the types it has handlers for, so such a run waits,
 * `pending`, for an instance that has one (a rolling deploy that adds a task type, or one that
 * was never deployed). Counted by one store query (`countDueRunsByType`) at most every
 * {@link WAITING_CHECK_MS}; `health()` and the metrics snapshot show the latest count.
 *
 * Seen from one instance: while another instance with the handler keeps up, these runs are
 * claimed within a poll and the count stays near zero; a count that stays up, or an old `since`,
 * means no running instance handles the type.
 */
export class WaitingRunsCounter {
  private latest: Record<string, WaitingRuns> = {};
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ctx: WaitingRunsContext) {}

  /** The latest count (empty before the first check). */
  get byType(): Readonly<Record<string, WaitingRuns>> {
    return this.latest;
  }

  /** Counts again when the last count is older than {@link WAITING_CHECK_MS}. Throws the store's error. */
  async refresh(): Promise<void> {
    const now = this.ctx.now();
    if (now.getTime() - this.checkedAt < WAITING_CHECK_MS) return;
    this.checkedAt = now.getTime();
    const counts = await this.ctx.store.countDueRunsByType(now, this.ctx.registry.types);
    const latest: Record<string, WaitingRuns> = {};
    for (const { taskType, count, oldestAvailableAt } of counts) latest[taskType] = { count, since: oldestAvailableAt };
    this.latest = latest;
  }

  /** Counts per task type, for the metrics snapshot. */
  counts(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.latest).map(([type, waiting]) => [type, waiting.count]));
  }

  /** Forgets the last count (a restarted scheduler counts again at its first poll). */
  reset(): void {
    this.latest = {};
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }
}
