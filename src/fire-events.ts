import type { EventBus } from './events.js';
import type { Metrics } from './metrics.js';
import type { SlotFire } from './stores/types.js';
import type { RunRecord } from './types.js';

/**
 * What a fired slot announces: its counters, `run:scheduled`, `trigger:misfired` when the slot
 * was missed beyond its grace, and `trigger:completed` when the schedule has no more slots.
 * Payloads are built only when someone listens.
 */
export function announceFired(ctx: { readonly events: EventBus; readonly metrics: Pick<Metrics, 'increment'> }, fire: SlotFire, missedFrom: Date | null): void {
  const { events, metrics } = ctx;
  const trigger = fire.next;
  if (fire.run) {
    metrics.increment('slotsFired');
    metrics.increment('runsScheduled');
    if (events.has('run:scheduled')) events.emit('run:scheduled', { run: asScheduled(fire.run) });
  }
  if (missedFrom && events.has('trigger:misfired')) {
    events.emit('trigger:misfired', { triggerId: trigger.id, owner: trigger.owner, missedFrom, policy: trigger.misfire, fired: fire.run?.scheduledFor ?? null });
  }
  if (trigger.status === 'completed') events.emit('trigger:completed', { trigger });
}

/** A run created already claimed is announced as scheduled, as it was before its claim at fire. */
function asScheduled(run: RunRecord): RunRecord {
  return run.status === 'running' ? { ...run, status: 'pending', attempt: run.attempt - 1, startedAt: null, instanceId: null, lease: null } : run;
}
