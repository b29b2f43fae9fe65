import { describe, expect, it } from 'vitest';
import { acquireFilter, acquireUpdate, isFree, RELEASE_UPDATE, releaseFilter, renewFilter, renewUpdate, toLock } from '../../src/locks/mongo/lock-queries.js';
import { fixtureDate as at } from '../../src/testing/fixtures.js';

describe('MongoDB lock queries', () => {
  it('acquires a lock only when it is expired or released', () => {
    expect(acquireFilter('res', at(0))).toEqual({ _id: 'res', $or: [{ expiresAt: { $lte: at(0) } }, { token: { $exists: false } }] });
  });

  it('sets owner and token as literals, and a fence above both the last one and the time', () => {
    const update = acquireUpdate({ resource: 'res', owner: '$owner', token: '$token', ttlMs: 10_000, now: at(0) });
    expect(update).toEqual([
      {
        $set: {
          owner: { $literal: '$owner' },
          token: { $literal: '$token' },
          expiresAt: at(10_000),
          fence: { $max: [{ $add: [{ $ifNull: ['$fence', 0] }, 1] }, at(0).getTime()] },
        },
      },
    ]);
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
