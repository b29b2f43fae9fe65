import { describe, expect, it } from 'vitest';
import {
  isResumeTokenLost, reopenDelayMs, RUN_CHANGES_PIPELINE, supportsChangeStreams, TRIGGER_CHANGES_PIPELINE,
} from '../../src/stores/mongo/change-feed.js';
import { claimIsSettled, NAME_CLAIM_GRACE_MS } from '../../src/stores/mongo/names.js';
import { fixtureDate as at } from '../../src/testing/fixtures.js';

describe('MongoDB change feed', () => {
  it('uses change streams on replica sets and mongos only', () => {
    expect(supportsChangeStreams({ isWritablePrimary: true, setName: 'rs0' })).toBe(true);
    expect(supportsChangeStreams({ isWritablePrimary: true, msg: 'isdbgrid' })).toBe(true);
    expect(supportsChangeStreams({ isWritablePrimary: true })).toBe(false);
  });

  it('drops the resume token only when resuming is hopeless', () => {
    for (const code of [260, 280, 286]) expect(isResumeTokenLost({ code })).toBe(true);
    expect(isResumeTokenLost({ code: 10107 })).toBe(false);
    expect(isResumeTokenLost({ name: 'MongoNetworkError' })).toBe(false);
  });

  it('backs off from 250 ms, doubling, up to 30 s', () => {
    expect([0, 1, 2, 3].map(reopenDelayMs)).toEqual([250, 500, 1_000, 2_000]);
    expect(reopenDelayMs(50)).toBe(30_000);
  });

  it('watches every trigger write, and only the run writes that make a run claimable', () => {
    expect(TRIGGER_CHANGES_PIPELINE[0]).toEqual({ $match: { operationType: { $in: ['insert', 'update', 'replace', 'delete'] } } });
    expect(RUN_CHANGES_PIPELINE[0]).toEqual({
      $match: {
        $or: [
          { operationType: { $in: ['insert', 'replace'] } },
          { operationType: 'update', 'updateDescription.updatedFields.status': 'pending' },
        ],
      },
    });
    for (const pipeline of [TRIGGER_CHANGES_PIPELINE, RUN_CHANGES_PIPELINE]) {
      // The projection keeps `_id`, the resume token.
      expect(pipeline.at(-1)).toEqual({ $project: { operationType: 1, documentKey: 1 } });
    }
  });
});

describe('MongoDB name reservations', () => {
  it('treats a reservation as settled only after the grace period', () => {
    expect(claimIsSettled({ at: at(0) }, at(NAME_CLAIM_GRACE_MS - 1))).toBe(false);
    expect(claimIsSettled({ at: at(0) }, at(NAME_CLAIM_GRACE_MS))).toBe(true);
    expect(claimIsSettled({ at: undefined as unknown as Date }, at(0))).toBe(true);
  });
});
