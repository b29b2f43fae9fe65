import type { TriggerRecord } from './types.js';

/**
 * Trigger changes made in this process (API calls, automatic pauses), passed to the dispatcher
 * at once so its window never fires a slot of a version this process already moved past.
 * Changes made by other processes arrive through the store's notifications or the next poll.
 * Built before the executor and the dispatcher: the executor reports changes, the dispatcher,
 * built after it, listens.
 */
export class LocalChanges {
  private listener: ((trigger: TriggerRecord | null, id: string) => void) | null = null;

  /** The one listener (the dispatcher). */
  onTriggerChanged(listener: (trigger: TriggerRecord | null, id: string) => void): void {
    this.listener = listener;
  }

  /** A trigger changed here (null: deleted). */
  triggerChanged(trigger: TriggerRecord | null, id: string): void {
    this.listener?.(trigger, id);
  }
}
