import type { RunRecord, TriggerRecord } from '../types.js';

/**
 * Telling a retried fire from another instance's: a fire whose answer was lost (the write
 * landed, the reply did not) is sent again with the same lease token. Its run is then found
 * held under that token, and the trigger already carries the fire's `next`.
 */

/** Whether a stored run is the fire's own claimed run: running under the lease token it carries. */
export function heldByFire(stored: Pick<RunRecord, 'status' | 'lease'> | null | undefined, run: RunRecord | null): boolean {
  const token = run?.lease?.token;
  return token !== undefined && stored?.status === 'running' && stored.lease?.token === token;
}

/**
 * Whether a stored trigger is at the fire's `next`: the version alone cannot tell the fire from
 * an edit, so the slot state the fire wrote (next slot, run count, status) must match too.
 * `updatedAt` is left out: a retry plans again at a later instant.
 */
export function isAdvancedTo(stored: Pick<TriggerRecord, 'version' | 'nextFireAt' | 'runCount' | 'status'> | null | undefined, next: TriggerRecord): boolean {
  if (!stored) return false;
  return (
    stored.version === next.version &&
    stored.runCount === next.runCount &&
    stored.status === next.status &&
    (stored.nextFireAt?.getTime() ?? null) === (next.nextFireAt?.getTime() ?? null)
  );
}
