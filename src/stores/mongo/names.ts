import type { Collection } from 'mongodb';
import { ConflictError } from '../../errors.js';
import { legacyNameKey, nameKey, type NameDoc, type TriggerDoc } from './documents.js';
import { isDuplicateKeyError } from './errors.js';

/**
 * A reservation younger than this may belong to a create or rename still in flight (between its
 * name write and its trigger write), so it is never taken over, even if its trigger is missing.
 * Older ones whose trigger is gone or renamed are orphans (a crash between the two writes).
 */
export const NAME_CLAIM_GRACE_MS = 60_000;

const CLAIM_ATTEMPTS = 4;

/** `created`: this call wrote the reservation; `held`: it already pointed to the trigger. */
export type NameClaim = 'created' | 'held';

/** Whether a reservation is old enough, at `at`, to be taken over if it is an orphan. */
export function claimIsSettled(doc: Pick<NameDoc, 'at'>, at: Date): boolean {
  return !(doc.at instanceof Date) || doc.at.getTime() <= at.getTime() - NAME_CLAIM_GRACE_MS;
}

export function nameConflict(owner: string, name: string, inFlight = false): ConflictError {
  return new ConflictError(
    inFlight
      ? `Owner "${owner}" has a trigger being created or renamed to "${name}" right now; choose another name.`
      : `Owner "${owner}" already has a trigger named "${name}"; choose another name.`,
  );
}

/**
 * Trigger names unique per owner without a unique secondary index (which a sharded `triggers`
 * collection could not enforce): one document per (owner, name) in `<prefix>trigger_names`,
 * whose `_id` uniqueness decides who has the name. The trigger write follows the reservation,
 * so a crash in between leaves an orphan reservation, taken over by the next claimer once it
 * is older than {@link NAME_CLAIM_GRACE_MS}. Both sides re-check after writing, so even a claim
 * stalled past the grace cannot leave two triggers with one name (see the callers).
 */
export class TriggerNames {
  constructor(
    private readonly names: Collection<NameDoc>,
    private readonly triggers: Collection<TriggerDoc>,
  ) {}

  /** Reserves (owner, name) for `triggerId`; throws ConflictError when another trigger has it. */
  async claim(owner: string, name: string, triggerId: string, at: Date): Promise<NameClaim> {
    await this.adoptLegacy(owner, name);
    const key = nameKey(owner, name);
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      try {
        await this.names.insertOne({ _id: key, triggerId, at });
        return 'created';
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const doc = await this.names.findOne({ _id: key });
      if (!doc) continue;
      if (doc.triggerId === triggerId) {
        // Ours already (a retry, or a leftover): refresh `at` so it counts as in flight again.
        await this.names.updateOne({ _id: key, triggerId }, { $set: { at } });
        return 'held';
      }
      if (await this.holds(doc.triggerId, owner, name)) throw nameConflict(owner, name);
      if (!claimIsSettled(doc, at)) throw nameConflict(owner, name, true);
      const taken = await this.names.updateOne({ _id: key, triggerId: doc.triggerId }, { $set: { triggerId, at } });
      if (taken.matchedCount === 0) continue;
      // The displaced trigger may have got the name between the check and the take-over: give it back.
      if (await this.holds(doc.triggerId, owner, name)) {
        await this.names.updateOne({ _id: key, triggerId }, { $set: { triggerId: doc.triggerId, at: doc.at } });
        throw nameConflict(owner, name);
      }
      return 'created';
    }
    throw new ConflictError(`The name "${name}" of owner "${owner}" is being claimed by several writers at once; try again.`);
  }

  /** Whether the reservation of (owner, name) points to `triggerId`. */
  async isHeldBy(owner: string, name: string, triggerId: string): Promise<boolean> {
    const doc = await this.names.findOne({ _id: nameKey(owner, name) });
    return doc?.triggerId === triggerId;
  }

  /** Drops the reservation of (owner, name) if it still points to `triggerId` (under either key). */
  async release(owner: string, name: string, triggerId: string): Promise<void> {
    await this.names.deleteMany({ _id: { $in: [nameKey(owner, name), legacyNameKey(owner, name)] }, triggerId });
  }

  /**
   * Moves every reservation still under the key of earlier versions (owner + NUL + name) to
   * {@link nameKey}. Run by `init()`; a claim also moves its own name first, so reservations
   * written by an instance not yet upgraded are honoured. Returns how many moved.
   */
  async migrateLegacyKeys(): Promise<number> {
    const legacy = await this.names.find({ _id: { $regex: '\\x00' } }).toArray();
    for (const doc of legacy) await this.moveLegacy(doc);
    return legacy.length;
  }

  private async adoptLegacy(owner: string, name: string): Promise<void> {
    const doc = await this.names.findOne({ _id: legacyNameKey(owner, name) });
    if (doc) await this.moveLegacy(doc);
  }

  /** Copies a legacy reservation to its new key (unless one is there) and removes it. */
  private async moveLegacy(doc: NameDoc): Promise<void> {
    const split = doc._id.lastIndexOf('\u0000');
    const key = nameKey(doc._id.slice(0, split), doc._id.slice(split + 1));
    try {
      await this.names.insertOne({ _id: key, triggerId: doc.triggerId, at: doc.at });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    await this.names.deleteOne({ _id: doc._id, triggerId: doc.triggerId });
  }

  /** Whether trigger `triggerId` exists and is named `name` for `owner`. */
  private async holds(triggerId: string, owner: string, name: string): Promise<boolean> {
    const trigger = await this.triggers.findOne({ _id: triggerId }, { projection: { owner: 1, name: 1 } });
    return trigger !== null && trigger.owner === owner && trigger.name === name;
  }
}
