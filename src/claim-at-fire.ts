import { randomId } from './random.js';
import type { FireRetries } from './fire-retries.js';
import type { ResolvedOptions } from './options.js';
import { planSlot, type Plan, type SlotMemo, type SlotPlanContext } from './slot-plan.js';
import type { SlotFireResult, Store } from './stores/types.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** The executor's side of claim at fire: its capacity, and taking in the runs it claimed. */
export interface FireCapacity {
  /** Reserves a slot for a run of `taskType`; false when this instance has no room or no handler for it. */
  reserve(taskType: string): boolean;
  /** The run was stored claimed: it starts here on its reserved slot. */
  adopt(run: RunRecord, token: string): void;
  /** The run was not stored: its reserved slot is freed. */
  release(taskType: string): void;
}

/** A slot planned for firing; `claimed` when its run is stored already claimed by this instance. */
export interface FirePlan extends Plan {
  claimed: boolean;
}

/** What claim at fire needs: planning (registry, options, time), this instance's lease settings, and `fireSlots`. */
export type ClaimAtFireContext = SlotPlanContext & {
  readonly store: Pick<Store, 'fireSlots'>;
  readonly options: Pick<ResolvedOptions, 'instanceId' | 'leaseMs' | 'random'>;
};

/**
 * Firing due slots, with claim at fire: a due slot's run is stored already claimed by the
 * instance that fires it when that instance has room, and starts there without a claim round
 * trip. Four steps, in this order, for each batch:
 *
 * 1. plan: `planSlot` decides the run and the trigger's next state (pure);
 * 2. reserve: a slot of executor capacity; with one, the run is claimed here (`running`, under
 *    a new lease; a retried fire reuses its earlier token);
 * 3. fire: `store.fireSlots` writes the triggers and their runs;
 * 4. adopt or release: a run stored claimed starts on its reserved slot; otherwise (another
 *    instance fired the slot, or the write failed) the slot is freed.
 */
export class ClaimAtFire {
  constructor(
    private readonly ctx: ClaimAtFireContext,
    private readonly capacity: FireCapacity,
    private readonly retries: FireRetries,
  ) {}

  /** Steps 1 and 2 for due triggers. */
  plan(triggers: readonly TriggerRecord[], now: Date, memo: SlotMemo): FirePlan[] {
    const plans: FirePlan[] = new Array(triggers.length);
    for (let i = 0; i < triggers.length; i++) plans[i] = this.reserve(planSlot(this.ctx, triggers[i]!, now, memo), now);
    return plans;
  }

  /** Step 3. */
  fire(plans: readonly FirePlan[]): Promise<SlotFireResult[]> {
    return this.ctx.store.fireSlots(plans.map((plan) => plan.fire));
  }

  /** Step 4 for one slot, given the store's answer. */
  settle(plan: FirePlan, result: SlotFireResult | undefined): void {
    const { run } = plan.fire;
    if (!plan.claimed || !run?.lease) return;
    if (result === 'fired') this.capacity.adopt(run, run.lease.token);
    else this.capacity.release(run.taskType);
  }

  /** Step 4 for a batch that was not written: every reserved slot is freed. */
  releaseAll(plans: readonly FirePlan[]): void {
    for (const plan of plans) if (plan.claimed && plan.fire.run) this.capacity.release(plan.fire.run.taskType);
  }

  /**
   * Step 2: a run due now whose type has room here is claimed in place. The planned run is a
   * fresh record nothing else holds yet, so it is completed rather than copied.
   */
  private reserve(plan: Plan, now: Date): FirePlan {
    const run = plan.fire.run;
    if (!run || run.availableAt.getTime() > now.getTime() || !this.capacity.reserve(run.taskType)) return { fire: plan.fire, missedFrom: plan.missedFrom, claimed: false };
    const { instanceId, leaseMs, random } = this.ctx.options;
    const token = this.retries.tokenFor(run.id, plan.fire.expectedVersion) ?? randomId(random, 16);
    run.status = 'running';
    run.attempt += 1;
    run.startedAt = now;
    run.instanceId = instanceId;
    run.lease = { token, instanceId, expiresAt: new Date(now.getTime() + leaseMs) };
    return { fire: plan.fire, missedFrom: plan.missedFrom, claimed: true };
  }
}
