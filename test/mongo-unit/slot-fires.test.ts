import { describe, expect, it } from 'vitest';
import { toRunDoc, toTriggerDoc } from '../../src/stores/mongo/documents.js';
import type { SlotFire } from '../../src/stores/types.js';
import { fixtureDate as at, makeSlotFire, makeSlotRun, makeTrigger } from '../../src/testing/fixtures.js';
import type { RunRecord, TriggerRecord } from '../../src/types.js';
import { bulkWriteError, cursor, fakeDriver, networkError, serverError } from './fake-driver.js';

// fireSlots is several writes, none atomic with the others: these tests fake the driver's
// collection calls to put a failure or a concurrent change between them.

function claimedFire(trigger: TriggerRecord, token = 'fire-token'): SlotFire {
  const lease = { token, instanceId: 'i1', expiresAt: at(30_000) };
  const run: RunRecord = { ...makeSlotRun(trigger), status: 'running', attempt: 1, startedAt: at(0), instanceId: 'i1', lease };
  return makeSlotFire(trigger, run);
}

const stored = (trigger: TriggerRecord) => toTriggerDoc(trigger);
const matched = (n: number) => ({ matchedCount: n, modifiedCount: n });

describe('MongoDB fireSlots, step by step', () => {
  it('withdraws the run and reports stale when the trigger was paused between the read and the compare-and-set', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = makeSlotFire(trigger, makeSlotRun(trigger));
    const paused = { ...trigger, status: 'paused' as const, version: trigger.version + 1 };
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)])).mockReturnValueOnce(cursor([stored(paused)]));
    runs.insertMany.mockResolvedValue({ insertedCount: 1 });
    triggers.replaceOne.mockResolvedValue(matched(0));
    runs.deleteOne.mockResolvedValue({ deletedCount: 1 });
    expect(await store.fireSlots([fire])).toEqual(['stale']);
    expect(runs.deleteOne).toHaveBeenCalledWith({ _id: fire.run!.id, status: 'pending', startedAt: null });
  });

  it('withdraws a run created claimed only while its own lease still holds it', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = claimedFire(trigger);
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)])).mockReturnValueOnce(cursor([]));
    runs.insertMany.mockResolvedValue({ insertedCount: 1 });
    triggers.replaceOne.mockResolvedValue(matched(0));
    runs.deleteOne.mockResolvedValue({ deletedCount: 0 });
    // Deleted meanwhile, and the run was already taken over: it stays, as the slot's run.
    expect(await store.fireSlots([fire])).toEqual(['duplicate']);
    expect(runs.deleteOne).toHaveBeenCalledWith({ _id: fire.run!.id, status: 'running', 'lease.token': 'fire-token' });
  });

  it('reports fired, withdrawing nothing, when another instance advanced the trigger on our run', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = makeSlotFire(trigger, makeSlotRun(trigger));
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)])).mockReturnValueOnce(cursor([stored({ ...fire.next, updatedAt: at(5) })]));
    runs.insertMany.mockResolvedValue({ insertedCount: 1 });
    triggers.replaceOne.mockResolvedValue(matched(0));
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(runs.deleteOne).not.toHaveBeenCalled();
  });

  it('keeps the run when the trigger moved past the slot another way', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = makeSlotFire(trigger, makeSlotRun(trigger));
    const movedOn = { ...trigger, nextFireAt: at(3_600_000), version: trigger.version + 1 };
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)])).mockReturnValueOnce(cursor([stored(movedOn)]));
    runs.insertMany.mockResolvedValue({ insertedCount: 1 });
    triggers.replaceOne.mockResolvedValue(matched(0));
    expect(await store.fireSlots([fire])).toEqual(['duplicate']);
    expect(runs.deleteOne).not.toHaveBeenCalled();
  });

  it('answers per fire when the server refuses one run: the others fire, the refused trigger stays due', async () => {
    const { store, triggers, runs } = fakeDriver();
    const [a, b] = [makeTrigger({ nextFireAt: at(0) }), makeTrigger({ nextFireAt: at(0) })];
    const fires = [makeSlotFire(a, makeSlotRun(a)), makeSlotFire(b, makeSlotRun(b))];
    triggers.find.mockReturnValueOnce(cursor([stored(a), stored(b)]));
    runs.insertMany.mockRejectedValue(bulkWriteError({ 0: 10334 }));
    triggers.replaceOne.mockResolvedValue(matched(1));
    expect(await store.fireSlots(fires)).toEqual(['failed', 'fired']);
    expect(triggers.replaceOne).toHaveBeenCalledTimes(1);
    expect(triggers.replaceOne.mock.calls[0]?.[0]).toEqual({ _id: b.id, version: b.version });
  });

  it('answers per fire when a compare-and-set fails part way through the batch', async () => {
    const { store, triggers, runs } = fakeDriver();
    const [a, b] = [makeTrigger({ nextFireAt: at(0) }), makeTrigger({ nextFireAt: at(0) })];
    const fires = [makeSlotFire(a, makeSlotRun(a)), makeSlotFire(b, null)];
    triggers.find.mockReturnValueOnce(cursor([stored(a), stored(b)]));
    runs.insertMany.mockResolvedValue({ insertedCount: 1 });
    triggers.replaceOne.mockRejectedValueOnce(networkError()).mockResolvedValueOnce(matched(1));
    expect(await store.fireSlots(fires)).toEqual(['failed', 'fired']);
  });

  it('marks every run of the batch failed when the insert fails with nothing known per document, and moves no trigger past them', async () => {
    const { store, triggers, runs } = fakeDriver();
    const [a, b] = [makeTrigger({ nextFireAt: at(0) }), makeTrigger({ nextFireAt: at(0) })];
    const fires = [makeSlotFire(a, makeSlotRun(a)), makeSlotFire(b, null)];
    triggers.find.mockReturnValueOnce(cursor([stored(a), stored(b)]));
    runs.insertMany.mockRejectedValue(networkError());
    triggers.replaceOne.mockResolvedValue(matched(1));
    expect(await store.fireSlots(fires)).toEqual(['failed', 'fired']);
    expect(triggers.replaceOne).toHaveBeenCalledTimes(1);
  });

  it('treats a write-concern error beside write errors as nothing known', async () => {
    const { store, triggers, runs } = fakeDriver();
    const a = makeTrigger({ nextFireAt: at(0) });
    triggers.find.mockReturnValueOnce(cursor([stored(a)]));
    const error = Object.assign(bulkWriteError({ 1: 11000 }), { result: { getWriteConcernError: () => ({ code: 64, errmsg: 'waiting for replication timed out' }) } });
    runs.insertMany.mockRejectedValue(error);
    expect(await store.fireSlots([makeSlotFire(a, makeSlotRun(a))])).toEqual(['failed']);
    expect(triggers.replaceOne).not.toHaveBeenCalled();
  });

  it('reports fired when a retried fire finds its run under its own token (the first answer was lost)', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = claimedFire(trigger);
    // The first attempt inserted the run, then its compare-and-set failed: the trigger is still due.
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)]));
    runs.insertMany.mockRejectedValue(bulkWriteError({ 0: 11000 }));
    triggers.replaceOne.mockResolvedValue(matched(1));
    runs.find.mockReturnValueOnce(cursor([toRunDoc(fire.run!)]));
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    // Another instance's run under another token is a duplicate.
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)]));
    runs.find.mockReturnValueOnce(cursor([toRunDoc(claimedFire(trigger, 'other').run!)]));
    expect(await store.fireSlots([fire])).toEqual(['duplicate']);
  });

  it('reports a pending run another instance inserted as duplicate without reading it', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    triggers.find.mockReturnValueOnce(cursor([stored(trigger)]));
    runs.insertMany.mockRejectedValue(bulkWriteError({ 0: 11000 }));
    triggers.replaceOne.mockResolvedValue(matched(1));
    expect(await store.fireSlots([makeSlotFire(trigger, makeSlotRun(trigger))])).toEqual(['duplicate']);
    expect(runs.find).not.toHaveBeenCalled();
  });

  it('reports fired when the retry finds both writes done', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = claimedFire(trigger);
    triggers.find.mockReturnValue(cursor([stored(fire.next)]));
    runs.find.mockReturnValueOnce(cursor([toRunDoc(fire.run!)]));
    expect(await store.fireSlots([fire])).toEqual(['fired']);
    expect(runs.insertMany).not.toHaveBeenCalled();
    expect(triggers.replaceOne).not.toHaveBeenCalled();
  });

  it('reports failed, not duplicate, when a claimed run cannot be looked up', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    const fire = claimedFire(trigger);
    triggers.find.mockReturnValueOnce(cursor([stored(fire.next)]));
    runs.find.mockReturnValueOnce({ toArray: () => Promise.reject(networkError()) });
    expect(await store.fireSlots([fire])).toEqual(['failed']);
  });

  it('throws, having written nothing, when the first read fails', async () => {
    const { store, triggers, runs } = fakeDriver();
    const trigger = makeTrigger({ nextFireAt: at(0) });
    triggers.find.mockReturnValueOnce({ toArray: () => Promise.reject(serverError(91)) });
    await expect(store.fireSlots([makeSlotFire(trigger, makeSlotRun(trigger))])).rejects.toMatchObject({ name: 'StoreError' });
    expect(runs.insertMany).not.toHaveBeenCalled();
  });
});
