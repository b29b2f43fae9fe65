import type { AttemptRecord, RunError, RunRecord } from '../types.js';

/** Claim pending runs whose `availableAt <= now`, highest priority first, then oldest `availableAt`. */
export interface ClaimRequest {
  now: Date;
  instanceId: string;
  /** Lease token for every run claimed by this call. */
  token: string;
  leaseMs: number;
  /** At most this many runs. */
  limit: number;
  /** Only runs of these task types (those with free capacity here); undefined: any. */
  taskTypes?: readonly string[];
}

/** Due pending runs of one task type (see `Store.countDueRunsByType`). */
export interface DueRunCount {
  taskType: string;
  count: number;
  /** The earliest `availableAt` among them: how long the oldest has been waiting. */
  oldestAvailableAt: Date;
}

/** Ends the current attempt of a run held under `token`. */
export type RunFinish = {
  runId: string;
  token: string;
  /** Appended to the run's `attempts` (omitted for deferrals and skips, which are not attempts). */
  attemptRecord?: AttemptRecord;
} & (
  | {
      /** Clears any `error` left by an earlier attempt. */
      status: 'completed';
      finishedAt: Date;
      durationMs: number;
      result?: unknown;
      expiresAt: Date;
      progress?: RunRecord['progress'];
    }
  | {
      status: 'failed' | 'timed_out' | 'cancelled' | 'skipped';
      finishedAt: Date;
      durationMs: number;
      error: RunError;
      expiresAt: Date;
      progress?: RunRecord['progress'];
    }
  | {
      /** Back to the queue: a retry after backoff, or a deferral (the attempt did not count). */
      status: 'pending';
      availableAt: Date;
      error?: RunError;
      /** Deferral: the claim is undone, so `attempt` goes back down by one. */
      undoAttempt?: boolean;
    }
);

/** One lease to renew (see `Store.renewLeases`): extend it to `expiresAt` if `token` still holds `runId`. */
export interface LeaseRenewalRequest {
  runId: string;
  token: string;
  expiresAt: Date;
}

/** The result of renewing a lease. */
export interface LeaseRenewal {
  /** False when the token no longer holds the run: the caller must stop. */
  held: boolean;
  /** `runs.cancel` was called on this run. */
  cancelRequested: boolean;
}

/**
 * Take over runs whose lease expired: running runs with `lease.expiresAt <= now`, oldest expiry
 * first, of the listed task types. Each is held from then on under `token` (lease until
 * `now + leaseMs`, lease instance `instanceId`); nothing else of the run changes (its status
 * stays `running`, its `attempt`, `startedAt` and `instanceId` stay those of the lapsed
 * attempt). What becomes of the run (retried after backoff, or failed) is the engine's policy:
 * it writes that outcome with `finishRuns` under `token`. The request has the shape of a claim;
 * `taskTypes` there are the types this instance has a handler for (so it knows their retry policy).
 */
export type ExpiredLeaseClaim = ClaimRequest;

/** A run taken over by `Store.claimExpiredLeases`, and the lease that had lapsed. */
export interface ExpiredLease {
  /** The run as now stored: held under the claim's token. */
  run: RunRecord;
  /** The lease that expired: its holder and when it expired. */
  expired: { instanceId: string; expiresAt: Date };
}
