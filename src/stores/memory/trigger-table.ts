import { ConflictError } from '../../errors.js';
import { BinaryHeap } from '../../heap.js';
import type { TriggerRecord } from '../../types.js';
import type { TriggerQuery } from '../types.js';
import { EventIndex } from './event-index.js';
import { keysetPage, type SortPosition } from './records.js';
import { fireAtOf, RowBuilder, type TriggerRow } from './trigger-row.js';

/** Due entries below this many are never worth compacting away. */
const COMPACT_SLACK = 1_024;

// No tie-break: findDueTriggers promises "earliest first" only, and with a fan-out (100,000
// triggers due at the same instant) comparing ids on every sift was a tenth of the CPU.
function byFireTime(a: TriggerRow, b: TriggerRow): number {
  return a.fireAt - b.fireAt;
}

/** The event name of an active event trigger; undefined for any other trigger. */
function activeEvent(row: TriggerRow): string | undefined {
  return row.status === 'active' && row.schedule.kind === 'event' ? row.schedule.event : undefined;
}

/**
 * The memory store's triggers, held as compact immutable {@link TriggerRow}s: a map by id, a
 * unique name index per owner (which also lists an owner's triggers), a heap of the active
 * rows by next fire time and an {@link EventIndex} of active event triggers by event name.
 * The due heap holds rows themselves: an entry is live while its row is the one stored under
 * its id; a rewrite pushes the new row and the old entry is dropped lazily. Everything runs
 * synchronously; inputs are copied in and results copied out.
 */
export class TriggerTable {
  private readonly rows = new Map<string, TriggerRow>();
  /** owner -> name -> id. */
  private readonly names = new Map<string, Map<string, string>>();
  private readonly due = new BinaryHeap<TriggerRow>(byFireTime);
  private readonly isLive = (row: TriggerRow): boolean => this.rows.get(row.id) === row;
  private readonly events = new EventIndex();
  private readonly builder = new RowBuilder();
  private dueCount = 0;

  insert(trigger: TriggerRecord): void {
    if (this.rows.has(trigger.id)) throw new ConflictError(`A trigger with id "${trigger.id}" already exists.`);
    this.assertNameFree(trigger.id, trigger.owner, trigger.name);
    this.put(this.builder.row(trigger));
  }

  get(id: string, owner?: string): TriggerRecord | null {
    const row = this.rows.get(id);
    if (!row || (owner !== undefined && row.owner !== owner)) return null;
    return row.toRecord();
  }

  /** The stored version, or undefined when the trigger does not exist. */
  versionOf(id: string): number | undefined {
    return this.rows.get(id)?.version;
  }

  /** One keyset page in the query's sort (then id) order. */
  list(query: TriggerQuery): TriggerRecord[] {
    const ids = query.owner !== undefined ? (this.names.get(query.owner)?.values() ?? []) : this.rows.keys();
    const matches: TriggerRow[] = [];
    for (const id of ids) {
      const t = this.rows.get(id) as TriggerRow;
      if (query.status !== undefined && t.status !== query.status) continue;
      if (query.taskType !== undefined && t.taskType !== query.taskType) continue;
      if (query.name !== undefined && t.name !== query.name) continue;
      if (query.namePrefix !== undefined && !t.name.startsWith(query.namePrefix)) continue;
      matches.push(t);
    }
    const byName = query.sort === 'name';
    const positionOf = (t: TriggerRow): SortPosition => [byName ? t.name : t.createdAt, t.id];
    const after = query.after ? ([query.after.value instanceof Date ? query.after.value.getTime() : query.after.value, query.after.id] as const) : undefined;
    return keysetPage(matches, positionOf, query.order === 'desc', after, query.limit, (row): TriggerRow => row).map((row) => row.toRecord());
  }

  /**
   * Replaces the trigger if it is still at `expectedVersion`; false (nothing written) when it
   * moved on or is gone. Throws ConflictError when `next` takes a name its owner already uses.
   */
  replace(id: string, expectedVersion: number, next: TriggerRecord): boolean {
    const stored = this.rows.get(id);
    if (!stored || stored.version !== expectedVersion) return false;
    this.assertNameFree(id, next.owner, next.name);
    this.put(this.builder.row(next, id));
    return true;
  }

  /** Throws ConflictError when `owner` has a trigger other than `id` named `name`. */
  assertNameFree(id: string, owner: string, name: string): void {
    const holder = this.names.get(owner)?.get(name);
    if (holder !== undefined && holder !== id) {
      throw new ConflictError(`Owner "${owner}" already has a trigger named "${name}"; choose another name.`);
    }
  }

  delete(id: string, expectedVersion?: number): boolean {
    const stored = this.rows.get(id);
    if (!stored || (expectedVersion !== undefined && stored.version !== expectedVersion)) return false;
    this.unindex(stored);
    this.rows.delete(id);
    return true;
  }

  /** Active triggers with `nextFireAt <= until`, earliest first, at most `limit`. */
  findDue(until: Date, limit: number): TriggerRecord[] {
    // Stale entries at the top go for good (each once): the walk below would pass them every time.
    for (let top = this.due.peek(); top && !this.isLive(top); top = this.due.peek()) this.due.pop();
    const end = fireAtOf(until.getTime());
    return this.due.firstItems(limit, (row) => row.fireAt > end, this.isLive).map((row) => row.toRecord());
  }

  /** Active triggers with an event schedule for `event`, by `createdAt` then `id`, paged. */
  findByEvent(event: string, limit: number, offset: number): TriggerRecord[] {
    return this.events.page(event, limit, offset).map((id) => (this.rows.get(id) as TriggerRow).toRecord());
  }

  /** Stores `row` and indexes it. */
  private put(row: TriggerRow): void {
    const previous = this.rows.get(row.id);
    // Firing rewrites a trigger with its owner and name unchanged: its name entry stays.
    const moved = !previous || previous.owner !== row.owner || previous.name !== row.name;
    if (previous) this.unindex(previous, moved);
    this.rows.set(row.id, row);
    if (moved) {
      let names = this.names.get(row.owner);
      if (!names) this.names.set(row.owner, (names = new Map()));
      names.set(row.name, row.id);
    }
    const event = activeEvent(row);
    if (event !== undefined) this.events.add(event, row.createdAt, row.id);
    if (row.isDue) {
      this.due.push(row);
      this.dueCount++;
    }
    if (this.due.size > 2 * this.dueCount + COMPACT_SLACK) this.due.retain(this.isLive);
  }

  private unindex(row: TriggerRow, moved = true): void {
    if (moved) {
      const names = this.names.get(row.owner);
      names?.delete(row.name);
      if (names?.size === 0) this.names.delete(row.owner);
    }
    const event = activeEvent(row);
    if (event !== undefined) this.events.remove(event, row.createdAt, row.id);
    if (row.isDue) this.dueCount--;
  }
}
