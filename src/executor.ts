import type { ActiveRun } from './active-run.js';
import type { Capacity } from './capacity.js';
import type { FireCapacity } from './claim-at-fire.js';
import type { TimerHandle } from './clock.js';
import { LeaseLostError, StoppedError } from './errors.js';
import type { FinishWriter } from './finish-writer.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { ResolvedOptions } from './options.js';
import { randomId } from './random.js';
import type { Reporter } from './reporter.js';
import type { RunExecution } from './run-execution.js';
import { RunAbort } from './run-abort.js';
import type { Store } from './stores/types.js';
import type { RunRecord } from './types.js';
import type { Wakeups } from './wake-timers.js';

/** What the executor reads: `claimRuns`, and this instance's settings and clock. */
export interface ExecutorContext {
  readonly store: Pick<Store, 'claimRuns'>;
  readonly options: Pick<ResolvedOptions, 'instanceId' | 'leaseMs' | 'random' | 'clock'>;
}

/** The pieces the executor drives, built before it. */
export interface ExecutorParts {
  readonly capacity: Capacity;
  readonly execution: RunExecution;
  readonly leases: Pick<LeaseKeeper, 'renewAll' | 'keepWriting'>;
  readonly writer: Pick<FinishWriter, 'drain' | 'abandon'>;
  readonly wakeups: Wakeups;
}

/**
 * Claims runs up to the free capacity (global and per task type, highest priority first; with
 * `prefetch`, that many more, held until a slot frees), starts them (`RunExecution` runs the
 * handler and writes the outcome), keeps their leases, and hands runs back when stopping.
 */
export class Executor implements FireCapacity {
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private renewTimer: TimerHandle | null = null;
  /** One promise per run executing here, settled when its execution ends (stop waits on them). */
  private readonly executions = new Map<ActiveRun, Promise<void>>();
  private readonly capacity: Capacity;

  constructor(
    private readonly ctx: ExecutorContext,
    private readonly parts: ExecutorParts,
    private readonly reporter: Reporter,
  ) {
    this.capacity = parts.capacity;
    parts.wakeups.onWake(() => this.wake());
  }

  get running(): number {
    return this.capacity.active.size;
  }

  start(): void {
    this.capacity.accepting = true;
    this.parts.wakeups.start();
    this.armRenewal();
  }

  /** Stops claiming; lets handlers finish for `graceMs`, then aborts the rest and hands their runs back. */
  async stop(graceMs: number): Promise<void> {
    const { clock, leaseMs } = this.ctx.options;
    this.capacity.accepting = false;
    this.parts.wakeups.stop();
    await this.claiming;
    this.handBack(this.capacity.held.drain());
    if (this.executions.size > 0 && graceMs > 0) await within(clock, graceMs, Promise.allSettled([...this.executions.values()]));
    for (const active of this.capacity.active.values()) active.controller.abort(new StoppedError('the scheduler is stopping'));
    await Promise.allSettled([...this.executions.values()]);
    // Through a store outage, outcomes cannot be written: wait at most a lease (renewing the
    // leases of those runs meanwhile), then leave them; those runs are recovered by another
    // instance once their leases expire.
    await within(clock, leaseMs, this.parts.writer.drain());
    this.parts.writer.abandon();
    if (this.renewTimer) clock.clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }

  /** Claims as much work as there is capacity for; calls made during a claim coalesce into one more. */
  wake(): void {
    if (!this.capacity.accepting) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = null;
    });
  }

  /** Claim at fire, fired: the run starts here on the slot reserved for it (or, while stopping, goes back to the store). */
  adopt(run: RunRecord, token: string): void {
    this.capacity.takeReserved();
    const active = this.track(run, token);
    if (!this.capacity.accepting) return this.handBack([active]);
    this.launch(active);
  }

  /** Claim at fire, reserve: a slot for a run of `taskType` about to be stored claimed here. */
  reserve(taskType: string): boolean {
    return this.capacity.reserve(taskType);
  }

  /** Claim at fire, not fired: the reserved slot is freed, and may take a stored run. */
  release(taskType: string): void {
    this.capacity.release(taskType);
    this.wake();
  }

  private async claimLoop(): Promise<void> {
    const { store, options } = this.ctx;
    // Handlers that finish together each call wake(): let the others of this round of
    // microtasks free their slots first, so one claim fills them all instead of claiming one
    // run, then the rest.
    await Promise.resolve();
    do {
      this.claimAgain = false;
      for (;;) {
        if (!this.capacity.accepting) return;
        this.startHeld();
        // Only types with a handler here (and room under their caps): never a run it cannot execute.
        const claim = this.capacity.claimable();
        if (!claim) break;
        let runs: RunRecord[];
        const token = randomId(options.random, 16);
        try {
          runs = await store.claimRuns({ now: new Date(options.clock.now()), instanceId: options.instanceId, token, leaseMs: options.leaseMs, ...claim });
          this.reporter.succeeded('claimRuns');
        } catch (error) {
          this.reporter.failed('claimRuns', error);
          return;
        }
        for (const run of runs) this.admit(run, token);
        if (runs.length < claim.limit) {
          this.startHeld();
          break;
        }
      }
    } while (this.claimAgain);
  }

  /** Takes a claimed run in: it counts against its type's cap from now, and waits in the hold for a slot. */
  private admit(run: RunRecord, token: string): void {
    this.capacity.held.push(this.track(run, token));
    this.capacity.count(run.taskType);
  }

  private track(run: RunRecord, token: string): ActiveRun {
    const claimedAt = this.ctx.options.clock.now();
    return {
      run,
      token,
      controller: new RunAbort(),
      lock: null,
      leaseExpiresAt: run.lease?.expiresAt.getTime() ?? claimedAt,
      claimedAt,
      renewingLease: false,
      renewingLock: false,
    };
  }

  /** Starts held runs, oldest first, while slots are free (slots reserved at fire are not). */
  private startHeld(): void {
    const { held } = this.capacity;
    for (let count = this.capacity.startable; count > 0; count--) this.launch(held.shift()!);
  }

  private launch(active: ActiveRun): void {
    const { run } = active;
    // The run may still be executing here under an older lease that expired (and was recovered):
    // that execution lost its lease, so it stops and its outcome is discarded.
    this.capacity.active.get(run.id)?.controller.abort(new LeaseLostError('the run was claimed again after its lease expired'));
    this.capacity.active.set(run.id, active);
    this.executions.set(active, this.run(active));
  }

  /** One execution, then its slot is freed for the next run (one promise per run). */
  private async run(active: ActiveRun): Promise<void> {
    try {
      await this.parts.execution.execute(active);
    } catch (error) {
      this.reporter.failed('execute', error);
    } finally {
      const { run } = active;
      if (this.capacity.active.get(run.id) === active) this.capacity.active.delete(run.id);
      this.capacity.uncount(run.taskType);
      this.executions.delete(active);
      this.startHeld();
      this.wake();
    }
  }

  /** Gives held runs back to the store, as if never claimed (their attempt is undone). */
  private handBack(runs: ActiveRun[]): void {
    const now = new Date(this.ctx.options.clock.now());
    for (const active of runs) {
      this.capacity.uncount(active.run.taskType);
      this.parts.execution.finish(active, { status: 'pending', availableAt: now, undoAttempt: true });
    }
  }

  /**
   * Every third of the lease: hands back runs held since the previous round, then renews the
   * leases and trigger locks of every run this instance holds, and the leases of runs whose
   * outcome is not written yet. The timer re-arms at once.
   */
  private armRenewal(): void {
    const { clock, leaseMs } = this.ctx.options;
    const interval = Math.max(100, Math.floor(leaseMs / 3));
    this.renewTimer = clock.setTimeout(() => {
      this.renewTimer = null;
      const now = new Date(clock.now());
      const heldSince = now.getTime() - interval;
      this.handBack(this.capacity.held.removeWhere((held) => held.claimedAt <= heldSince));
      const { active, held } = this.capacity;
      this.parts.leases.renewAll([...active.values(), ...held], now);
      const { writing } = this.parts.execution;
      this.parts.leases.keepWriting(writing, now);
      if (this.capacity.accepting || active.size > 0 || writing.size > 0) this.armRenewal();
    }, interval);
  }
}

/** Waits for `work`, at most `ms` on `clock`. */
async function within(clock: ResolvedOptions['clock'], ms: number, work: Promise<unknown>): Promise<void> {
  let timer: TimerHandle | null = null;
  await Promise.race([work, new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, ms)))]);
  if (timer) clock.clearTimeout(timer);
}
