import { heldByFire, isAdvancedTo } from '../fire-retry.js';
import { MemoryLockStore } from '../../locks/memory/memory-lock-store.js';
import type { LockStore } from '../../locks/types.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../../types.js';
import type {
  AuditQuery,
  ClaimRequest,
  DueRunCount,
  LeaseRenewal,
  LeaseRenewalRequest,
  ExpiredLease,
  ExpiredLeaseClaim,
  RunFinish,
  RunQuery,
  SlotFire,
  SlotFireResult,
  Store,
  TriggerQuery,
  TriggerWrite,
} from '../types.js';
import { AuditLog } from './audit-log.js';
import { RunTable } from './run-table.js';
import { TriggerTable } from './trigger-table.js';
import { renewEachLeaseOnce } from '../first-per-lease.js';

/**
 * A {@link Store} that keeps everything in process memory: for tests, demos and single-process
 * services that need no durability. One instance may be shared by several schedulers in the
 * same process, which then behave like instances sharing a database.
 *
 * Every method does all its reads and writes synchronously before returning its promise, so
 * each call is atomic with respect to every other. Records are deep-copied in and out.
 * Due triggers, event triggers by event name, claimable runs, expiring leases and purgeable
 * runs are kept in ordered indexes, so the engine's periodic queries and event publishing stay
 * cheap with millions of records.
 * `subscribe` is not implemented: schedulers in one process wake each other directly.
 * `createLockStore` returns one shared memory lock store per store.
 * @example
 * const store = memoryStore();
 * const a = createScheduler({ store, handlers });
 * const b = createScheduler({ store, handlers }); // a second "instance" on the same data
 */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly triggers = new TriggerTable();
  private readonly runs = new RunTable();
  private readonly audit = new AuditLog();
  private lockStore: LockStore | undefined;

  async init(): Promise<void> {}

  async close(): Promise<void> {}

  async ping(): Promise<void> {}

  async insertTrigger(trigger: TriggerRecord): Promise<void> {
    this.triggers.insert(trigger);
  }

  async getTrigger(id: string, owner?: string): Promise<TriggerRecord | null> {
    return this.triggers.get(id, owner);
  }

  async listTriggers(query: TriggerQuery): Promise<TriggerRecord[]> {
    return this.triggers.list(query);
  }

  async updateTrigger(write: TriggerWrite): Promise<boolean> {
    return this.triggers.replace(write.id, write.expectedVersion, write.next);
  }

  async deleteTrigger(id: string, expectedVersion?: number): Promise<boolean> {
    return this.triggers.delete(id, expectedVersion);
  }

  async findDueTriggers(until: Date, limit: number): Promise<TriggerRecord[]> {
    return this.triggers.findDue(until, limit);
  }

  async findEventTriggers(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    return this.triggers.findByEvent(event, limit, offset);
  }

  async fireSlots(fires: readonly SlotFire[]): Promise<SlotFireResult[]> {
    // Check every rename first, so a ConflictError leaves the whole batch unwritten.
    for (const fire of fires) {
      if (this.triggers.versionOf(fire.triggerId) === fire.expectedVersion) {
        this.triggers.assertNameFree(fire.triggerId, fire.next.owner, fire.next.name);
      }
    }
    return fires.map((fire): SlotFireResult => {
      const runExists = fire.run !== null && this.runs.has(fire.run.id);
      // A retry of a fire already written: its run is held under the fire's own token.
      const own = runExists && heldByFire(this.runs.get(fire.run!.id), fire.run);
      if (!this.triggers.replace(fire.triggerId, fire.expectedVersion, fire.next)) {
        if (own && isAdvancedTo(this.triggers.get(fire.triggerId), fire.next)) return 'fired';
        return runExists ? 'duplicate' : 'stale';
      }
      if (runExists) return own ? 'fired' : 'duplicate';
      if (fire.run) this.runs.insert(fire.run);
      return 'fired';
    });
  }

  async insertRuns(runs: readonly RunRecord[]): Promise<boolean[]> {
    return runs.map((run) => this.runs.insert(run));
  }

  async getRun(id: string, owner?: string): Promise<RunRecord | null> {
    return this.runs.get(id, owner);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return this.runs.list(query);
  }

  async claimRuns(request: ClaimRequest): Promise<RunRecord[]> {
    return this.runs.claim(request);
  }

  async countDueRunsByType(now: Date, exceptTypes: readonly string[]): Promise<DueRunCount[]> {
    return this.runs.countDueByType(now, exceptTypes);
  }

  async renewLeases(renewals: readonly LeaseRenewalRequest[]): Promise<LeaseRenewal[]> {
    return renewEachLeaseOnce(renewals, async (first) => first.map((r) => this.runs.renew(r.runId, r.token, r.expiresAt)));
  }

  async finishRuns(finishes: readonly RunFinish[]): Promise<boolean[]> {
    return finishes.map((finish) => this.runs.finish(finish));
  }

  async setProgress(runId: string, token: string, progress: NonNullable<RunRecord['progress']>): Promise<boolean> {
    return this.runs.setProgress(runId, token, progress);
  }

  async claimExpiredLeases(request: ExpiredLeaseClaim): Promise<ExpiredLease[]> {
    return this.runs.claimExpiredLeases(request);
  }

  async cancelRun(id: string, now: Date, retentionMs: number, owner?: string): Promise<RunRecord | null> {
    return this.runs.cancel(id, now, retentionMs, owner);
  }

  async cancelPendingRuns(triggerId: string, now: Date, retentionMs: number): Promise<number> {
    return this.runs.cancelPending(triggerId, now, retentionMs);
  }

  async purgeExpiredRuns(now: Date, limit: number): Promise<number> {
    return this.runs.purgeExpired(now, limit);
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.audit.append(entry);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    return this.audit.list(query);
  }

  /**
   * The memory lock store of this store: the same object on every call, so schedulers that
   * share this store also share their locks.
   */
  createLockStore(): LockStore {
    this.lockStore ??= new MemoryLockStore();
    return this.lockStore;
  }
}

/**
 * Creates an in-memory {@link Store}. Share the returned object between schedulers to test
 * several instances in one process.
 * @example
 * const scheduler = createScheduler({ store: memoryStore(), handlers });
 */
export function memoryStore(): Store {
  return new MemoryStore();
}
