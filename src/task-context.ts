import type { ActiveRun } from './active-run.js';
import type { EventBus } from './events.js';
import type { Store } from './stores/types.js';
import { storableText } from './json-limits.js';
import { ValidationError } from './errors.js';
import type { TaskContext } from './registry.js';

/** What a handler's context needs: `setProgress`, `run:progress`, the time. */
export interface TaskContextDeps {
  readonly store: Pick<Store, 'setProgress'>;
  readonly events: Pick<EventBus, 'emit'>;
  now(): Date;
}

/**
 * What a handler gets besides its payload: the run's identity, its abort signal (made on first
 * read) and `progress`, which stores a percentage under the run's lease and emits `run:progress`.
 */
export function taskContext(ctx: TaskContextDeps, active: ActiveRun): TaskContext {
  const { run, controller, token } = active;
  return {
    runId: run.id,
    triggerId: run.triggerId,
    triggerName: run.triggerName,
    owner: run.owner,
    taskType: run.taskType,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    scheduledFor: run.scheduledFor,
    source: run.source,
    get signal() {
      return controller.signal;
    },
    ...(run.event ? { event: run.event } : {}),
    progress: async (percent: number, note?: string) => {
      if (!(typeof percent === 'number' && percent >= 0 && percent <= 100)) {
        throw ValidationError.from([{ path: 'percent', message: `must be a number from 0 to 100, got ${String(percent)}` }], 'Invalid progress');
      }
      const progress = { percent, ...(note !== undefined ? { note: storableText(String(note).slice(0, 500)) } : {}), at: ctx.now() };
      run.progress = progress;
      await ctx.store.setProgress(run.id, token, progress);
      ctx.events.emit('run:progress', { run, percent, ...(note !== undefined ? { note } : {}) });
    },
  };
}
