import type { Collection } from 'mongodb';
import { ConflictError } from '../../errors.js';
import type { TriggerRecord } from '../../types.js';
import type { TriggerQuery, TriggerWrite } from '../types.js';
import { fromTriggerDoc, toTriggerDoc, withoutId, type TriggerDoc } from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import { nameConflict, type TriggerNames } from './names.js';
import { page } from './pages.js';
import * as q from './queries.js';

/**
 * The MongoDB store's trigger operations. A trigger document and its name reservation
 * (`<prefix>trigger_names`) are two writes without a transaction: each write claims the name
 * first and checks it still holds the reservation afterwards, undoing its own write when a
 * claimer that took over a stalled claim won.
 */
export class TriggerTable {
  constructor(
    private readonly triggers: Collection<TriggerDoc>,
    private readonly names: TriggerNames,
  ) {}

  async insert(trigger: TriggerRecord): Promise<void> {
    const claim = await this.names.claim(trigger.owner, trigger.name, trigger.id, trigger.updatedAt);
    try {
      await this.triggers.insertOne(toTriggerDoc(trigger));
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      if (claim === 'created') await this.names.release(trigger.owner, trigger.name, trigger.id);
      throw new ConflictError(`A trigger with id "${trigger.id}" already exists.`);
    }
    // A claimer that took the name over from a stalled claim of ours wins: undo the insert.
    if (!(await this.names.isHeldBy(trigger.owner, trigger.name, trigger.id))) {
      await this.triggers.deleteOne(q.triggerAtVersion(trigger.id, trigger.version));
      throw nameConflict(trigger.owner, trigger.name);
    }
  }

  async get(id: string, owner?: string): Promise<TriggerRecord | null> {
    const doc = await this.triggers.findOne(owner === undefined ? { _id: id } : { _id: id, owner });
    return doc ? fromTriggerDoc(doc) : null;
  }

  list(query: TriggerQuery): Promise<TriggerRecord[]> {
    return page(this.triggers, q.triggerListFilter(query), q.triggerListSort(query), query.limit, fromTriggerDoc);
  }

  async update(write: TriggerWrite): Promise<boolean> {
    const current = await this.triggers.findOne({ _id: write.id });
    if (!current || current.version !== write.expectedVersion) return false;
    const { next } = write;
    const renamed = current.owner !== next.owner || current.name !== next.name;
    if (!renamed) return this.replace(write.id, write.expectedVersion, next);
    const claim = await this.names.claim(next.owner, next.name, write.id, next.updatedAt);
    if (!(await this.replace(write.id, write.expectedVersion, next))) {
      if (claim === 'created') await this.names.release(next.owner, next.name, write.id);
      return false;
    }
    if (!(await this.names.isHeldBy(next.owner, next.name, write.id))) {
      // Taken over while our claim stalled: put the previous record back (one version later).
      await this.triggers.replaceOne(q.triggerAtVersion(write.id, next.version), { ...withoutId(current), version: next.version + 1 });
      throw nameConflict(next.owner, next.name);
    }
    await this.names.release(current.owner, current.name, write.id);
    return true;
  }

  async delete(id: string, expectedVersion?: number): Promise<boolean> {
    const deleted = await this.triggers.findOneAndDelete(q.triggerAtVersion(id, expectedVersion));
    if (!deleted) return false;
    await this.names.release(deleted.owner, deleted.name, id);
    return true;
  }

  async findDue(until: Date, limit: number): Promise<TriggerRecord[]> {
    if (limit <= 0) return [];
    const docs = await this.triggers.find(q.dueTriggersFilter(until), { sort: q.DUE_TRIGGERS_SORT, limit }).toArray();
    return docs.map(fromTriggerDoc);
  }

  async findByEvent(event: string, limit: number, offset: number): Promise<TriggerRecord[]> {
    const window = q.pageWindow({ limit, offset });
    if (!window) return [];
    const docs = await this.triggers.find(q.eventTriggersFilter(event), { sort: q.TRIGGER_LIST_SORT, ...window }).toArray();
    return docs.map(fromTriggerDoc);
  }

  /** Replaces the trigger if it is still at `expectedVersion`; the name reservation is the caller's. */
  async replace(id: string, expectedVersion: number, next: TriggerRecord): Promise<boolean> {
    const result = await this.triggers.replaceOne(q.triggerAtVersion(id, expectedVersion), withoutId(toTriggerDoc({ ...next, id })));
    return result.matchedCount === 1;
  }
}
