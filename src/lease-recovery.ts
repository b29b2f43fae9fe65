import type { Engine } from './engine.js';
import type { FinishWriter } from './finish-writer.js';
import { planLeaseExpiry } from './outcome.js';
import { randomId } from './random.js';
import type { Reporter } from './reporter.js';
import type { StoreWatch } from './store-watch.js';
import type { RunFinish } from './stores/types.js';

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
    private readonly engine: Engine,
    private readonly writer: FinishWriter,
    private readonly report: Reporter,
    private readonly storeWatch: Pick<StoreWatch, 'answeringForMs'>,
    private readonly wakeAt: (at: number) => void,
  ) {}

  /** One poll's recovery: a batch of expired leases taken over and settled, once the store is steady. */
  async recover(): Promise<void> {
    const { engine } = this;
    const now = engine.now();
    if (this.storeWatch.answeringForMs() < engine.options.leaseMs) return;
    const token = randomId(engine.options.random, 16);
    let expired;
    try {
      expired = await engine.store.claimExpiredLeases({
        now,
        instanceId: engine.options.instanceId,
        token,
        leaseMs: engine.options.leaseMs,
        limit: RECOVERY_BATCH,
        // Only types with a handler here: their retry policy is known here.
        taskTypes: engine.registry.types,
      });
      this.report.succeeded('claimExpiredLeases');
    } catch (error) {
      this.report.failed('claimExpiredLeases', error);
      return;
    }
    for (const lease of expired) {
      const planned = planLeaseExpiry(engine, lease, now, { wakeAt: this.wakeAt });
      if (!planned.finish) continue;
      const finish = { ...planned.finish, runId: lease.run.id, token } as RunFinish;
      this.writer.write(finish, (held) => {
        if (held) planned.after?.();
      });
    }
  }
}
