import type { Collection, Document } from 'mongodb';
import { describe, expect, it, vi } from 'vitest';
import type { StoreChange } from '../../src/stores/types.js';
import {
  ChangeFeeds, isResumeTokenLost, nextChange, reopenDelayMs, RUN_CHANGES_PIPELINE, supportsChangeStreams, TRIGGER_CHANGES_PIPELINE,
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

describe('MongoDB change feed with a client timeoutMS', () => {
  const timeout = () => Object.assign(new Error('Timed out during socket read'), { name: 'MongoOperationTimeoutError' });

  it('reads an idle stream timing out as no change yet, and other errors as errors', async () => {
    await expect(nextChange({ next: () => Promise.reject(timeout()) })).resolves.toBeNull();
    await expect(nextChange({ next: () => Promise.resolve('change') })).resolves.toBe('change');
    await expect(nextChange({ next: () => Promise.reject(new Error('closed')) })).rejects.toThrow('closed');
  });

  it('keeps the feed up through idle timeouts and still delivers the next change', async () => {
    // Fakes of the driver's watch(): streams that time out twice when idle, then deliver one change.
    const fakeCollection = (id: string) => {
      let calls = 0;
      const stream = {
        resumeToken: { _data: 'token' },
        tryNext: () => Promise.resolve(null),
        next: () => {
          calls++;
          if (calls <= 2) return Promise.reject(timeout());
          if (calls === 3) return Promise.resolve({ documentKey: { _id: id } });
          return new Promise(() => undefined);
        },
        close: () => Promise.resolve(),
      };
      return { watch: vi.fn(() => stream) } as unknown as Collection<Document>;
    };
    const changes: StoreChange[] = [];
    const states: boolean[] = [];
    const feeds = new ChangeFeeds(fakeCollection('t1'), fakeCollection('r1'), (change) => void changes.push(change), (up) => void states.push(up));
    await feeds.start();
    await vi.waitFor(() => expect(changes).toHaveLength(2));
    expect(changes).toEqual(expect.arrayContaining([{ kind: 'trigger', id: 't1' }, { kind: 'run', id: 'r1' }]));
    expect(states).toEqual([true]);
  });
});
