import type { ActiveRun } from './active-run.js';
import type { Engine } from './engine.js';
import type { Reporter } from './reporter.js';
import { CancelledError, LeaseLostError } from './errors.js';

/**
 * Keeps the leases and trigger locks of the runs an instance holds. All the leases due at one
 * tick are renewed in one store call; lock renewals run apart, so a slow lock store cannot hold
 * up leases, and at most one of each is in flight per run, so a slow store does not stack them up.
 */
export class LeaseKeeper {
  constructor(
    private readonly engine: Engine,
    private readonly reporter: Reporter,
  ) {}

  /** Renews what `runs` hold, every lease in one store call; a run whose lease already expired is aborted instead. */
  renewAll(runs: Iterable<ActiveRun>, now: Date): void {
    const leases: ActiveRun[] = [];
    for (const active of runs) {
      if (now.getTime() >= active.leaseExpiresAt) {
        active.controller.abort(new LeaseLostError('the lease expired before it could be renewed'));
        continue;
      }
      if (!active.renewingLease) leases.push(active);
      if (active.lock && !active.renewingLock) void this.renewLock(active, now);
    }
    void this.renewLeases(leases, now);
  }

  /**
   * Renews the leases of runs whose outcome is still being written, past their local expiry
   * too: the store renews only while no other instance took the run over, so after a store
   * outage the outcome is written, not the handler run again. No trigger lock: it was released.
   */
  keepWriting(runs: Iterable<ActiveRun>, now: Date): void {
    const leases: ActiveRun[] = [];
    for (const active of runs) if (!active.renewingLease) leases.push(active);
    void this.renewLeases(leases, now);
  }

  /** One `renewLeases` call for `leases`; each run then learns whether it still holds its lease, or was cancelled. */
  private async renewLeases(leases: readonly ActiveRun[], now: Date): Promise<void> {
    if (leases.length === 0) return;
    const { engine } = this;
    const expiresAt = new Date(now.getTime() + engine.options.leaseMs);
    for (const active of leases) active.renewingLease = true;
    try {
      const renewals = await engine.store.renewLeases(leases.map((active) => ({ runId: active.run.id, token: active.token, expiresAt })));
      this.reporter.succeeded('renewLeases');
      leases.forEach((active, i) => {
        const renewal = renewals[i];
        if (!renewal?.held) return active.controller.abort(new LeaseLostError('another instance holds this run now'));
        active.leaseExpiresAt = expiresAt.getTime();
        if (renewal.cancelRequested) active.controller.abort(new CancelledError('the run was cancelled'));
      });
    } catch (error) {
      this.reporter.failed('renewLeases', error);
    } finally {
      for (const active of leases) active.renewingLease = false;
    }
  }

  /**
   * Keeps the trigger lock. If it was lost (expired, or the lock store forgot it), it is taken
   * again; if another run holds it now, this run stops (as with a lost lease), so two runs of the
   * trigger never go on side by side.
   */
  private async renewLock(active: ActiveRun, now: Date): Promise<void> {
    const { engine } = this;
    const lock = active.lock;
    if (!lock) return;
    active.renewingLock = true;
    try {
      let held = await engine.locks.renew(lock, engine.options.leaseMs, now);
      held ??= await engine.locks.acquire({ resource: lock.resource, owner: lock.owner, token: lock.token, ttlMs: engine.options.leaseMs, now });
      this.reporter.succeeded('lock.renew');
      if (held) active.lock = held;
      else {
        // Another run of the trigger holds the lock now: this one stops, and its attempt counts
        // as lost, like a lost lease (the run is retried as its next attempt once the lease lapses).
        active.lock = null;
        active.controller.abort(new LeaseLostError('the trigger lock was lost to another run'));
      }
    } catch (error) {
      this.reporter.failed('lock.renew', error);
    } finally {
      active.renewingLock = false;
    }
  }
}
