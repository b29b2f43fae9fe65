import type { Clock } from './clock.js';
import type { Reporter } from './reporter.js';

/**
 * How this instance's store calls have gone lately: since when the store has answered without
 * a failure (lock-store calls do not count), and a hook for each answer. Fed by the loops'
 * reporters. Lease recovery waits one lease of answers before taking leases over; the finish
 * writer retries held outcomes at the first answer after an outage.
 */
export class StoreWatch implements Reporter {
  /** Since when (epoch ms) the store has answered without a failure; null: not yet, or failing. */
  private since: number | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  /** Calls `listener` after every successful store call. */
  onAnswer(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Forgets what was seen (at start: the store has not answered this run yet). */
  reset(): void {
    this.since = null;
  }

  /** How long the store has answered without a failure, ms; 0 when failing or not yet seen. */
  answeringForMs(): number {
    return this.since === null ? 0 : this.clock.now() - this.since;
  }

  failed(operation: string): void {
    if (!isLockOperation(operation)) this.since = null;
  }

  succeeded(operation: string): void {
    if (isLockOperation(operation)) return;
    this.since ??= this.clock.now();
    for (const listener of this.listeners) listener();
  }
}

function isLockOperation(operation: string): boolean {
  return operation.startsWith('lock');
}
