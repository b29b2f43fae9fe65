import type { FinishWriter } from './finish-writer.js';
import { planLeaseExpiry, type OutcomeContext } from './outcome.js';
import type { ResolvedOptions } from './options.js';
import type { HandlerRegistry } from './registry.js';
import { randomId } from './random.js';
import type { Reporter } from './reporter.js';
import type { StoreWatch } from './store-watch.js';
import type { RunFinish, Store } from './stores/types.js';

/** What recovery needs: the outcome planner's context, `claimExpiredLeases`, the handled types, the lease settings. */
export type LeaseRecoveryContext = OutcomeContext & {
  readonly store: Pick<Store, 'claimExpiredLeases'>;
  readonly registry: Pick<HandlerRegistry, 'types'>;
  readonly options: Pick<ResolvedOptions, 'clock' | 'leaseMs'>;
};

/** Expired leases taken over per poll. */
const RECOVERY_BATCH = 500;

/**
 * Takes over runs whose lease expired and decides their fate with the outcome planner
 * (`planLeaseExpiry`: retried after backoff, or failed), written through the finish writer
 * under the new lease's token, like every other outcome.
 *
 * A lease also expires when its holder is alive but the store was unreachable for longer than
 * the lease (renewals failed). Then the holder must get the store first: it renews its leases
 * every third of a lease and retries its queued outcomes as soon as the store answers, so this
 * instance takes nothing over until the store has answered it for one full lease without a
 * failure (from start, and again after every failure it sees). A holder that was cut off too
 * has renewed, or written its outcome, by then; a lease still expired belongs to an instance
 * that died, hangs, or still cannot reach the store.
 */
export class LeaseRecovery {
  constructor(
    private readonly ctx: LeaseRecoveryContext,
    private readonly writer: FinishWriter,
    private readonly report: Reporter,
    private readonly storeWatch: Pick<StoreWatch, 'answeringForMs'>,
    private readonly wakeAt: (at: number) => void,
  ) {}

  /** One poll's recovery: a batch of expired leases taken over and settled, once the store is steady. */
  async recover(): Promise<void> {
    const { ctx } = this;
    const now = new Date(ctx.options.clock.now());
    if (this.storeWatch.answeringForMs() < ctx.options.leaseMs) return;
    const token = randomId(ctx.options.random, 16);
    let expired;
    try {
      expired = await ctx.store.claimExpiredLeases({
        now,
        instanceId: ctx.options.instanceId,
        token,
        leaseMs: ctx.options.leaseMs,
        limit: RECOVERY_BATCH,
        // Only types with a handler here: their retry policy is known here.
        taskTypes: ctx.registry.types,
      });
      this.report.succeeded('claimExpiredLeases');
    } catch (error) {
      this.report.failed('claimExpiredLeases', error);
      return;
    }
    for (const lease of expired) {
      const planned = planLeaseExpiry(ctx, lease, now, { wakeAt: this.wakeAt });
      if (!planned.finish) continue;
      const finish = { ...planned.finish, runId: lease.run.id, token } as RunFinish;
      this.writer.write(finish, (held) => {
        if (held) planned.after?.();
      });
    }
  }
}
