import type { TriggerRecord, RunRecord } from '../types.js';

/** Writes to a trigger, applied only when its `version` still equals `expectedVersion`. */
export interface TriggerWrite {
  id: string;
  expectedVersion: number;
  /** The full new record; its `version` must be `expectedVersion + 1`. */
  next: TriggerRecord;
}

/**
 * Firing one slot: create the slot's run and advance the trigger, exactly once per slot.
 * `run.id` is deterministic for the slot, so a second attempt to fire the same slot (from any
 * instance, or after a crash between the two writes) finds the run already there.
 */
export interface SlotFire {
  /** The trigger as the dispatcher last read it. */
  triggerId: string;
  expectedVersion: number;
  /** The trigger after firing (nextFireAt moved on, runCount incremented, maybe completed). */
  next: TriggerRecord;
  /**
   * The run to create, or null to advance without a run (misfire skip). Status `pending`, or
   * `running` when the firing instance claims it at creation: then it carries the lease, the
   * attempt, `startedAt` and `instanceId` a claim would have set, and is stored as given.
   */
  run: RunRecord | null;
}

/**
 * - `fired`: this call created the run and advanced the trigger; also when a retried fire finds
 *   its run already there held under the fire's own lease token and the trigger advanced to
 *   `next` (an earlier call wrote it but its answer was lost).
 * - `duplicate`: the run already existed (another instance fired the slot); the trigger was
 *   advanced if it still had `expectedVersion`.
 * - `stale`: the trigger changed since it was read (or is gone) and no run was created; re-read it.
 * - `failed`: a store that writes a batch in several steps could not finish this fire (a write
 *   failed or the server refused the run); the trigger did not advance past the slot as far as
 *   it knows. Fire the same slot again later with the same lease token: its deterministic run id
 *   makes the retry safe. Stores that write a batch atomically throw instead.
 */
export type SlotFireResult = 'fired' | 'duplicate' | 'stale' | 'failed';
