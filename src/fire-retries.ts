import type { Plan } from './slot-plan.js';
import type { SlotFire } from './stores/types.js';

/**
 * What the dispatcher keeps for slot fires it must send again (the store threw, or answered
 * `failed`, maybe after writing part of them): the lease token of each run created claimed, by
 * run id. The retry carries the same token, so a run already written under it is recognised by
 * the store as this instance's (`fired`) instead of a duplicate left to lease expiry.
 */
export class FireRetries {
  private readonly tokens = new Map<string, { version: number; token: string }>();

  keep(fire: SlotFire): void {
    if (fire.run?.lease) this.tokens.set(fire.run.id, { version: fire.expectedVersion, token: fire.run.lease.token });
  }

  /** The fire settled (fired, duplicate, stale): nothing to carry over. */
  forget(fire: SlotFire): void {
    if (fire.run) this.tokens.delete(fire.run.id);
  }

  /** The plan with the token its slot's earlier attempt used, when it fires the same trigger version. */
  apply(plan: Plan): Plan {
    const { run } = plan.fire;
    const kept = run?.lease ? this.tokens.get(run.id) : undefined;
    if (!run?.lease || !kept || kept.version !== plan.fire.expectedVersion) return plan;
    return { ...plan, fire: { ...plan.fire, run: { ...run, lease: { ...run.lease, token: kept.token } } } };
  }

  clear(): void {
    this.tokens.clear();
  }
}

/** Delay before a slot the store answered `failed` for is fired again: from 100 ms, doubling, up to `maxMs`. */
export function fireRetryDelayMs(failures: number, maxMs: number): number {
  return Math.min(maxMs, 50 * 2 ** Math.min(failures, 10));
}
