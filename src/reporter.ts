import type { EventBus } from './events.js';
import type { Health } from './health.js';

/**
 * Where the engine's loops report the outcome of a store or lock-store call: a failure turns
 * `health()` degraded and emits `scheduler:error`; a success of the same kind clears it (and
 * emits `scheduler:recovered`). Each loop gets one, named after it.
 */
export interface Reporter {
  failed(operation: string, error: unknown): void;
  succeeded(operation: string): void;
}

/** Which loop reports: the prefix of `scheduler:error`'s `operation` (`executor:claimRuns`). */
export type ReportingLoop = 'dispatcher' | 'executor';

/** A reporter for one loop, feeding `health` and `scheduler:error`. Lock-store operations start with `lock`. */
export function loopReporter(loop: ReportingLoop, health: Pick<Health, 'failed' | 'succeeded'>, events: Pick<EventBus, 'emit'>): Reporter {
  return {
    failed(operation, error) {
      health.failed(operation, error);
      events.emit('scheduler:error', { error, source: operation.startsWith('lock') ? 'lock-store' : 'store', operation: `${loop}:${operation}` });
    },
    succeeded: (operation) => health.succeeded(operation),
  };
}
