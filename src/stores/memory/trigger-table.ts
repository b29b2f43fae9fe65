import { ConflictError } from '../../errors.js';
import type { TriggerRecord } from '../../types.js';
import type { TriggerQuery } from '../types.js';
import { EventIndex } from './event-index.js';
import { addToIndex, copyTrigger, keysetPage, removeFromIndex, type SortPosition } from './records.js';
import { TimeIndex } from './time-index.js';

interface StoredTrigger {
  record: TriggerRecord;
  /** Write sequence number: entries of the due index are live while it matches. */
  seq: number;
}

function nameKey(owner: string, name: string): string {
  return `${owner}\u0000${name}`;
}

function isDueCandidate(trigger: TriggerRecord): trigger is TriggerRecord & { nextFireAt: Date } {
  return trigger.status === 'active' && trigger.nextFireAt !== null;
}

/** The event name of an active event trigger; undefined for any other trigger. */
function activeEvent(trigger: TriggerRecord): string | undefined {
  return trigger.status === 'active' && trigger.schedule.kind === 'event' ? trigger.schedule.event : undefined;
}

/**
 * The memory store's triggers: a map by id, a unique (owner, name) index, an owner index, a
 * {@link TimeIndex} of active triggers by `nextFireAt` and an {@link EventIndex} of active event
 * triggers by event name. Everything runs synchronously; inputs are copied in and results
 * copied out.
 */
export class TriggerTable {
  private readonly triggers = new Map<string, StoredTrigger>();
  private readonly idsByName = new Map<string, string>();
  private readonly idsByOwner = new Map<string, Set<string>>();
  private readonly due = new TimeIndex((ref) => this.triggers.get(ref.id)?.seq === ref.seq);
  private readonly events = new EventIndex();
  private dueCount = 0;
  private seq = 0;

  insert(trigger: TriggerRecord): void {
    if (this.triggers.has(trigger.id)) throw new ConflictError(`A trigger with id "${trigger.id}" already exists.`);
    this.assertNameFree(trigger.id, trigger.owner, trigger.name);
    this.put(copyTrigger(trigger));
  }

  get(id: string, owner?: string): TriggerRecord | null {
    const record = this.triggers.get(id)?.record;
    if (!record || (owner !== undefined && record.owner !== owner)) return null;
    return copyTrigger(record);
  }

  /** The stored version, or undefined when the trigger does not exist. */
  versionOf(id: string): number | undefined {
    return this.triggers.get(id)?.record.version;
  }

  /** One keyset page in the query's sort (then id) order. */
  list(query: TriggerQuery): TriggerRecord[] {
    const ids = query.owner !== undefined ? (this.idsByOwner.get(query.owner) ?? []) : this.triggers.keys();
    const matches: TriggerRecord[] = [];
    for (const id of ids) {
      const t = (this.triggers.get(id) as StoredTrigger).record;
      if (query.status !== undefined && t.status !== query.status) continue;
      if (query.taskType !== undefined && t.taskType !== query.taskType) continue;
      if (query.name !== undefined && t.name !== query.name) continue;
      if (query.namePrefix !== undefined && !t.name.startsWith(query.namePrefix)) continue;
      matches.push(t);
    }
    const byName = query.sort === 'name';
    const positionOf = (t: TriggerRecord): SortPosition => [byName ? t.name : t.createdAt.getTime(), t.id];
    const after = query.after ? ([query.after.value instanceof Date ? query.after.value.getTime() : query.after.value, query.after.id] as const) : undefined;
    return keysetPage(matches, positionOf, query.order === 'desc', after, query.limit, copyTrigger);
  }

  /**
   * Replaces the trigger if it is still at `expectedVersion`; false (nothing written) when it
   * moved on or is gone. Throws ConflictError when `next` takes a name its owner already uses.
   */
  replace(id: string, expectedVersion: number, next: TriggerRecord): boolean {
    const stored = this.triggers.get(id);
    if (!stored || stored.record.version !== expectedVersion) return false;
    this.assertNameFree(id, next.owner, next.name);
    const record = copyTrigger(next);
    record.id = id;
    this.put(record);
    return true;
  }

  /** Throws ConflictError when `owner` has a trigger other than `id` named `name`. */
  assertNameFree(id: string, owner: string, name: string): void {
    const holder = this.idsByName.get(nameKey(owner, name));
    if (holder !== undefined && holder !== id) {
      throw new ConflictError(`Owner "${owner}" already has a trigger named "${name}"; choose another name.`);
    }
  }

  delete(id: string, expectedVersion?: number): boolean {
    const stored = this.triggers.get(id);
    if (!stored || (expectedVersion !== undefined && stored.record.version !== expectedVersion)) return false;
    this.unindex(stored.record);
    this.triggers.delete(id);
    return true;
  }

  /** Active triggers with `nextFireAt <= until`, earliest first, at most `limit`. */
  findDue(until: Date, limit: number): TriggerRecord[] {
    return this.due
      .peekDue(until.getTime(), limit)
      .map((ref) => copyTrigger((this.triggers.get(ref.id) as StoredTrigger).record));
  }

  /** Active triggers with an event schedule for `event`, by `createdAt` then `id`, paged. */
  findByEvent(event: string, limit: number, offset: number): TriggerRecord[] {
    return this.events.page(event, limit, offset).map((id) => copyTrigger((this.triggers.get(id) as StoredTrigger).record));
  }

  /** Stores `record` (owned by the table from now on) and indexes it. */
  private put(record: TriggerRecord): void {
    const previous = this.triggers.get(record.id)?.record;
    // Firing rewrites a trigger with its owner and name unchanged: its name and owner entries stay.
    const moved = !previous || previous.owner !== record.owner || previous.name !== record.name;
    if (previous) this.unindex(previous, moved);
    const seq = ++this.seq;
    this.triggers.set(record.id, { record, seq });
    if (moved) {
      this.idsByName.set(nameKey(record.owner, record.name), record.id);
      addToIndex(this.idsByOwner, record.owner, record.id);
    }
    const event = activeEvent(record);
    if (event !== undefined) this.events.add(event, record.createdAt.getTime(), record.id);
    if (isDueCandidate(record)) {
      this.due.add(record.nextFireAt.getTime(), record.id, seq);
      this.dueCount++;
    }
    this.due.compactIfBloated(this.dueCount);
  }

  private unindex(record: TriggerRecord, moved = true): void {
    if (moved) {
      this.idsByName.delete(nameKey(record.owner, record.name));
      removeFromIndex(this.idsByOwner, record.owner, record.id);
    }
    const event = activeEvent(record);
    if (event !== undefined) this.events.remove(event, record.createdAt.getTime(), record.id);
    if (isDueCandidate(record)) this.dueCount--;
  }
}
