import { describe, expect, it } from 'vitest';
import { acquireWrite, isFree, nextFence, RELEASE_UPDATE, releaseFilter, renewFilter, renewUpdate, toLock } from '../../src/locks/mongo/lock-queries.js';
import { fixtureDate as at } from '../../src/testing/fixtures.js';

describe('MongoDB lock queries', () => {
  it('acquires a free lock by compare-and-set on its fence, with plain operators', () => {
    const request = { resource: 'res', owner: '$owner', token: '$token', ttlMs: 10_000, now: at(0) };
    const write = acquireWrite(request, { fence: 7 });
    expect(write.filter).toEqual({ _id: 'res', fence: 7, $or: [{ expiresAt: { $lte: at(0) } }, { token: { $exists: false } }] });
    const fence = at(0).getTime();
    expect(write.update).toEqual({ $set: { owner: '$owner', token: '$token', expiresAt: at(10_000), fence } });
    expect(write.lock).toEqual({ resource: 'res', owner: '$owner', token: '$token', expiresAt: at(10_000), fence });
    // No pipeline: an object of operators, never an array.
    expect(Array.isArray(write.update)).toBe(false);
  });

  it('creates a missing lock only if nobody created it meanwhile (the upsert collides on _id)', () => {
    const write = acquireWrite({ resource: 'res', owner: 'o', token: 't', ttlMs: 1, now: at(0) }, null);
    expect(write.filter).toEqual({ _id: 'res', fence: { $exists: false } });
  });

  it('moves the fence past the last one and past the time', () => {
    expect(nextFence(null, at(0))).toBe(at(0).getTime());
    expect(nextFence({ fence: at(0).getTime() + 5 }, at(0))).toBe(at(0).getTime() + 6);
  });

  it('renews and releases by token; release keeps the document and its fence', () => {
    const lock = { resource: 'res', token: 'tok' };
    expect(renewFilter(lock, at(5))).toEqual({ _id: 'res', token: 'tok', expiresAt: { $gt: at(5) } });
    expect(renewUpdate(1_000, at(5))).toEqual({ $set: { expiresAt: at(1_005) } });
    expect(releaseFilter(lock)).toEqual({ _id: 'res', token: 'tok' });
    expect(RELEASE_UPDATE).toEqual({ $unset: { token: '' } });
  });

  it('tells a free lock from a held one', () => {
    expect(isFree({ token: 'tok', expiresAt: at(10) }, at(9))).toBe(false);
    expect(isFree({ token: 'tok', expiresAt: at(10) }, at(10))).toBe(true);
    expect(isFree({ expiresAt: at(10) }, at(0))).toBe(true);
  });

  it('maps a document to a Lock', () => {
    expect(toLock({ _id: 'res', owner: 'i1', token: 'tok', expiresAt: at(1), fence: 7 })).toEqual({
      resource: 'res', owner: 'i1', token: 'tok', expiresAt: at(1), fence: 7,
    });
  });
});
