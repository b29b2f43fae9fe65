import type { Collection } from 'mongodb';
import type { TriggerRecord } from '../../types.js';
import type { SlotFire, SlotFireResult } from '../types.js';
import { toRunDoc, type RunDoc, type TriggerDoc } from './documents.js';
import { insertFailure, type BulkInsertFailures } from './errors.js';
import type { NameClaim, TriggerNames } from './names.js';
import { slotFireResult } from './queries.js';

/** What {@link fireSlots} needs from the store. */
export interface SlotFireContext {
  triggers: Collection<TriggerDoc>;
  names: TriggerNames;
  /** Unordered insert; resolves to what was not written. */
  insertRuns(docs: readonly RunDoc[]): Promise<BulkInsertFailures>;
  /** Compare-and-set replace of a trigger; whether it matched. */
  replaceTrigger(id: string, expectedVersion: number, next: TriggerRecord): Promise<boolean>;
  existingRunIds(ids: string[]): Promise<Set<string>>;
}

interface Rename {
  index: number;
  triggerId: string;
  from: { owner: string; name: string };
  to: { owner: string; name: string };
  claim: NameClaim;
}

/**
 * Fires a batch of slots in four round trips: read the triggers' versions; insert the runs of
 * the fires whose version matches (unordered, so one duplicate does not stop the others); then
 * compare-and-set each of those triggers; then look up the runs of the other fires. The run's
 * deterministic `_id` makes each slot's run exist once, whichever instance inserts it, and the
 * run is written before the trigger moves on, so a crash in between leaves a slot that fires
 * again as a duplicate rather than a lost slot. Results follow {@link slotFireResult}.
 */
export async function fireSlots(fires: readonly SlotFire[], ctx: SlotFireContext): Promise<SlotFireResult[]> {
  if (fires.length === 0) return [];
  const ids = [...new Set(fires.map((fire) => fire.triggerId))];
  const found = await ctx.triggers.find({ _id: { $in: ids } }, { projection: { version: 1, owner: 1, name: 1 } }).toArray();
  const current = new Map(found.map((doc) => [doc._id, doc]));
  const eligible = fires.map((fire) => current.get(fire.triggerId)?.version === fire.expectedVersion);

  const renames = await claimRenames(fires, eligible, current, ctx.names);

  const toInsert = fires.flatMap((fire, index) => (eligible[index] && fire.run ? [{ index, doc: toRunDoc(fire.run) }] : []));
  const { duplicates, failed } = await ctx.insertRuns(toInsert.map((item) => item.doc));
  const inserted = new Map(toInsert.map((item, k) => [item.index, !duplicates.has(k)]));
  // A run the server refused (too large, a validator...) holds back its trigger only, not the batch.
  const refused = new Set(toInsert.filter((_, k) => failed.has(k)).map((item) => item.index));

  const advanced = await Promise.all(
    fires.map((fire, index) =>
      eligible[index] && !refused.has(index) ? ctx.replaceTrigger(fire.triggerId, fire.expectedVersion, fire.next) : Promise.resolve(false),
    ),
  );
  await settleRenames(renames, advanced, ctx.names);
  if (failed.size > 0) {
    throw insertFailure(toInsert.map((item) => ({ id: item.doc._id })), failed);
  }

  const unknown = fires.flatMap((fire, index) => (!eligible[index] && fire.run ? [fire.run.id] : []));
  const existing = unknown.length > 0 ? await ctx.existingRunIds(unknown) : new Set<string>();

  return fires.map((fire, index) =>
    slotFireResult({
      eligible: eligible[index] === true,
      hasRun: fire.run !== null,
      inserted: inserted.get(index),
      advanced: advanced[index] === true,
      runExists: fire.run !== null && existing.has(fire.run.id),
    }),
  );
}

/**
 * The engine never renames a trigger while firing it, but the contract allows `next` to carry
 * another name: reserve those names first, so a ConflictError leaves the batch unwritten.
 */
async function claimRenames(
  fires: readonly SlotFire[],
  eligible: readonly boolean[],
  current: ReadonlyMap<string, Pick<TriggerDoc, 'owner' | 'name'>>,
  names: TriggerNames,
): Promise<Rename[]> {
  const renames: Rename[] = [];
  try {
    for (const [index, fire] of fires.entries()) {
      const stored = current.get(fire.triggerId);
      if (!eligible[index] || !stored || (stored.owner === fire.next.owner && stored.name === fire.next.name)) continue;
      const claim = await names.claim(fire.next.owner, fire.next.name, fire.triggerId, fire.next.updatedAt);
      renames.push({ index, triggerId: fire.triggerId, from: { owner: stored.owner, name: stored.name }, to: fire.next, claim });
    }
  } catch (error) {
    await settleRenames(renames, [], names);
    throw error;
  }
  return renames;
}

/** Frees the old name of each renamed trigger that moved on, or the new one we reserved in vain. */
async function settleRenames(renames: readonly Rename[], advanced: readonly boolean[], names: TriggerNames): Promise<void> {
  await Promise.all(
    renames.map(async (rename) => {
      if (advanced[rename.index]) await names.release(rename.from.owner, rename.from.name, rename.triggerId);
      else if (rename.claim === 'created') await names.release(rename.to.owner, rename.to.name, rename.triggerId);
    }),
  );
}
