import type { Collection } from 'mongodb';
import type { TriggerRecord } from '../../types.js';
import { heldByFire, isAdvancedTo } from '../fire-retry.js';
import type { SlotFire, SlotFireResult } from '../types.js';
import { toRunDoc, type RunDoc, type TriggerDoc } from './documents.js';
import type { BulkInsertFailures } from './errors.js';
import type { NameClaim, TriggerNames } from './names.js';
import { untouchedRun } from './queries.js';

/** What {@link fireSlots} needs from the store. */
export interface SlotFireContext {
  triggers: Collection<TriggerDoc>;
  runs: Collection<RunDoc>;
  names: TriggerNames;
  /** Unordered insert; resolves to what was not written, rejects when nothing is known per document. */
  insertRuns(docs: readonly RunDoc[]): Promise<BulkInsertFailures>;
  /** Compare-and-set replace of a trigger; whether it matched. */
  replaceTrigger(id: string, expectedVersion: number, next: TriggerRecord): Promise<boolean>;
}

type StoredRun = Pick<RunDoc, 'status' | 'lease'>;
type StoredTrigger = Pick<TriggerDoc, '_id' | 'version' | 'owner' | 'name' | 'nextFireAt' | 'runCount' | 'status'>;
/** What became of one fire's run insert: written, already there, refused by the server, or unknown (the call failed). */
type Insert = 'inserted' | 'duplicate' | 'refused' | 'unknown';
/** The trigger compare-and-set: matched, not matched, failed (unknown), or not tried. */
type Advance = boolean | 'error' | undefined;
/** A fire's answer, or `withdraw`: its own run exists but the trigger did not advance from the version read (see {@link settleOwnRun}). */
type Verdict = SlotFireResult | 'withdraw';

interface Rename {
  index: number;
  triggerId: string;
  from: { owner: string; name: string };
  to: { owner: string; name: string };
  claim: NameClaim;
}

/**
 * Fires a batch of slots: read the triggers' versions; insert the runs of the fires whose version
 * matches (unordered, so one duplicate or refusal does not stop the others); compare-and-set each
 * of those triggers; look up the runs whose fate needs it. The run's deterministic `_id` makes
 * each slot's run exist once, whichever instance inserts it, and the run is written before the
 * trigger moves on, so a crash in between leaves a slot that fires again as a duplicate rather
 * than a lost slot. No single step is atomic with the others, so:
 * - a run created for a trigger that did not advance (paused, edited or deleted in between) is
 *   withdrawn while untouched, and the fire is `stale`;
 * - a fire whose writes failed part way is `failed`, not a thrown batch: the engine retries it
 *   with the same lease token, and a retry that finds its own run (and the trigger at `next`)
 *   is `fired`.
 * Only the first read and a rename conflict throw, and then nothing was written.
 */
export async function fireSlots(fires: readonly SlotFire[], ctx: SlotFireContext): Promise<SlotFireResult[]> {
  if (fires.length === 0) return [];
  const current = await readTriggers(fires.map((fire) => fire.triggerId), ctx.triggers);
  const eligible = fires.map((fire) => current.get(fire.triggerId)?.version === fire.expectedVersion);

  const renames = await claimRenames(fires, eligible, current, ctx.names);
  const inserts = await insertRuns(fires, eligible, ctx);
  const advanced = await Promise.all(
    fires.map(async (fire, index): Promise<Advance> => {
      const insert = inserts.get(index);
      if (!eligible[index] || insert === 'refused' || insert === 'unknown') return undefined;
      return ctx.replaceTrigger(fire.triggerId, fire.expectedVersion, fire.next).catch(() => 'error' as const);
    }),
  );
  // Best effort: a reservation left behind is an orphan the next claimer takes over.
  await settleRenames(renames, advanced, ctx.names).catch(() => undefined);

  // A duplicate's run is read only when it may be our own (created claimed, so it has a token).
  const needsRun = fires.map((fire, index) => fire.run !== null && (eligible[index] ? inserts.get(index) === 'duplicate' && fire.run.lease !== null : true));
  const stored = await storedRuns(fires, needsRun, ctx.runs);
  const verdicts = fires.map((fire, index): Verdict => {
    if (!fire.run) return eligible[index] ? advanceOnly(advanced[index]) : 'stale';
    if (needsRun[index] && stored === null) return 'failed';
    const run = stored?.get(fire.run.id);
    if (eligible[index]) return withRun(inserts.get(index), advanced[index], heldByFire(run, fire.run));
    if (!run) return 'stale';
    return heldByFire(run, fire.run) ? 'withdraw' : 'duplicate';
  });
  // Our own run, but the trigger did not move from the version we read: see where it is now.
  const missed = fires.filter((_, index) => verdicts[index] === 'withdraw').map((fire) => fire.triggerId);
  const now = missed.length === 0 ? current : await readTriggers(missed, ctx.triggers).catch(() => null);
  return Promise.all(
    verdicts.map((verdict, index) => {
      if (verdict !== 'withdraw') return verdict;
      const fire = fires[index] as SlotFire;
      return now === null ? 'failed' : settleOwnRun(fire, now.get(fire.triggerId), ctx.runs);
    }),
  );
}

async function readTriggers(ids: readonly string[], triggers: Collection<TriggerDoc>): Promise<Map<string, StoredTrigger>> {
  const projection = { version: 1, owner: 1, name: 1, nextFireAt: 1, runCount: 1, status: 1 };
  const found = await triggers.find({ _id: { $in: [...new Set(ids)] } }, { projection }).toArray();
  return new Map(found.map((doc) => [doc._id, doc as StoredTrigger]));
}

/**
 * A fire created its run (or finds it held under its token), but the trigger did not move from
 * the version it read:
 * - the trigger is at the fire's `next` (another instance advanced it, on our run; or our
 *   earlier attempt did): `fired`;
 * - it still owes this slot (paused, edited keeping the slot, or deleted): the run is withdrawn
 *   while untouched, and the fire is `stale`, as if never written;
 * - it moved past the slot another way: the run stays as the slot's run, `duplicate`.
 */
async function settleOwnRun(fire: SlotFire, trigger: StoredTrigger | undefined, runs: Collection<RunDoc>): Promise<SlotFireResult> {
  if (isAdvancedTo(trigger, fire.next)) return 'fired';
  const slot = (fire.run as NonNullable<SlotFire['run']>).scheduledFor.getTime();
  const owesSlot = !trigger || trigger.status !== 'active' || trigger.nextFireAt === null || trigger.nextFireAt.getTime() <= slot;
  return owesSlot ? withdraw(fire, runs) : 'duplicate';
}

/** A fire without a run (a skipped slot): only the trigger moves. */
function advanceOnly(advanced: Advance): Verdict {
  if (advanced === 'error') return 'failed';
  return advanced === true ? 'fired' : 'stale';
}

/** A fire whose trigger had the expected version when read. */
function withRun(insert: Insert | undefined, advanced: Advance, own: boolean): Verdict {
  if (insert === 'refused' || insert === 'unknown' || advanced === 'error') return 'failed';
  if (insert === 'inserted' || own) return advanced === true ? 'fired' : 'withdraw';
  return 'duplicate';
}

/** Inserts the runs of the eligible fires; each fire's outcome by input index. */
async function insertRuns(fires: readonly SlotFire[], eligible: readonly boolean[], ctx: SlotFireContext): Promise<Map<number, Insert>> {
  const toInsert = fires.flatMap((fire, index) => (eligible[index] && fire.run ? [{ index, doc: toRunDoc(fire.run) }] : []));
  const outcome = new Map<number, Insert>();
  if (toInsert.length === 0) return outcome;
  let failures: BulkInsertFailures;
  try {
    failures = await ctx.insertRuns(toInsert.map((item) => item.doc));
  } catch {
    for (const item of toInsert) outcome.set(item.index, 'unknown');
    return outcome;
  }
  toInsert.forEach((item, k) => {
    outcome.set(item.index, failures.duplicates.has(k) ? 'duplicate' : failures.failed.has(k) ? 'refused' : 'inserted');
  });
  return outcome;
}

/** The stored runs (status and lease) of the fires that need them; null when the read failed. */
async function storedRuns(fires: readonly SlotFire[], needed: readonly boolean[], runs: Collection<RunDoc>): Promise<Map<string, StoredRun> | null> {
  const ids = fires.flatMap((fire, index) => (needed[index] && fire.run ? [fire.run.id] : []));
  if (ids.length === 0) return new Map();
  try {
    const docs = await runs.find({ _id: { $in: ids } }, { projection: { status: 1, lease: 1 } }).toArray();
    return new Map(docs.map((doc) => [doc._id, { status: doc.status, lease: doc.lease }]));
  } catch {
    return null;
  }
}

/**
 * Takes back the run a fire created for a trigger that did not advance, if nobody touched it
 * yet: `stale`, as if it had never been written. A run already claimed elsewhere stays (it is
 * a run of the slot like any other): `duplicate`. Unknown after an error: `failed`, retried.
 */
async function withdraw(fire: SlotFire, runs: Collection<RunDoc>): Promise<SlotFireResult> {
  try {
    const { deletedCount } = await runs.deleteOne(untouchedRun(fire.run!));
    return deletedCount === 1 ? 'stale' : 'duplicate';
  } catch {
    return 'failed';
  }
}

/** Withdraws runs while untouched; returns the ids that could not be (claimed meanwhile, or an error). */
export async function withdrawRuns(runs: Collection<RunDoc>, written: readonly SlotFire['run'][]): Promise<string[]> {
  const settled = await Promise.allSettled(written.map(async (run) => (await runs.deleteOne(untouchedRun(run!))).deletedCount === 1));
  return written.flatMap((run, i) => (settled[i]?.status === 'fulfilled' && settled[i].value ? [] : [run!.id]));
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
async function settleRenames(renames: readonly Rename[], advanced: readonly Advance[], names: TriggerNames): Promise<void> {
  await Promise.all(
    renames.map(async (rename) => {
      if (advanced[rename.index] === true) await names.release(rename.from.owner, rename.from.name, rename.triggerId);
      else if (advanced[rename.index] !== 'error' && rename.claim === 'created') await names.release(rename.to.owner, rename.to.name, rename.triggerId);
    }),
  );
}
