import type { Lock } from './locks/types.js';
import type { RunAbort } from './run-abort.js';
import type { RunRecord } from './types.js';

/** A run this instance holds a lease on: executing, or claimed ahead and held for a free slot. */
export interface ActiveRun {
  run: RunRecord;
  token: string;
  controller: RunAbort;
  lock: Lock | null;
  leaseExpiresAt: number;
  /** When this instance claimed it (epoch ms): a run held too long is handed back. */
  claimedAt: number;
  /** A lease or lock renewal of this run is in flight: a slow store must not stack them up. */
  renewingLease: boolean;
  renewingLock: boolean;
}
