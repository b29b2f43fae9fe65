import { recordAudit, type AuditContext } from './engine.js';
import type { LocalChanges } from './local-changes.js';
import type { RunRecord, TriggerRecord } from './types.js';

const ATTEMPTS = 5;

/**
 * Counts a final outcome towards the trigger's automatic pause (`pauseAfterFailures`): a failure
 * extends the streak and pauses the trigger when it reaches the threshold; a success resets it.
 * Only runs created while the trigger had the setting call this.
 */
export async function countOutcome(ctx: AuditContext, run: RunRecord, failed: boolean, changes: Pick<LocalChanges, 'triggerChanged'>): Promise<void> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const trigger = await ctx.store.getTrigger(run.triggerId);
    if (!trigger?.autoPause) return;
    const { afterFailures, consecutiveFailures } = trigger.autoPause;
    if (!failed && consecutiveFailures === 0) return;
    const streak = failed ? consecutiveFailures + 1 : 0;
    const pause = failed && streak >= afterFailures && trigger.status === 'active';
    const reason = `paused automatically after ${streak} consecutive failed runs`;
    const next: TriggerRecord = {
      ...trigger,
      autoPause: { afterFailures, consecutiveFailures: streak },
      ...(pause ? { status: 'paused' as const, pausedReason: reason } : {}),
      updatedAt: ctx.now(),
      version: trigger.version + 1,
    };
    if (!(await ctx.store.updateTrigger({ id: trigger.id, expectedVersion: trigger.version, next }))) continue;
    changes.triggerChanged(next, next.id);
    if (pause) {
      await recordAudit(ctx, { actor: 'system', action: 'trigger.pause', owner: next.owner, triggerId: next.id, details: { reason, automatic: true } });
      ctx.events.emit('trigger:paused', { trigger: next, actor: 'system', reason });
    }
    return;
  }
}
