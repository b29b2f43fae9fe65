import type { Db, Document, Filter, Sort } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongoStore, type MongoStore } from '../../src/stores/mongo/index.js';
import * as q from '../../src/stores/mongo/queries.js';
import { fixtureDate as at, makeRun, makeTrigger } from '../../src/testing/fixtures.js';
import type { RunRecord } from '../../src/types.js';
import { mongoTarget, useDatabases } from './databases.js';

const target = mongoTarget();

/** Every `stage` and `indexName` in the winning plan (classic or slot-based, sharded or not). */
function winningPlan(explain: Document): { stages: string[]; indexes: string[] } {
  const stages: string[] = [];
  const indexes: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (typeof record.stage === 'string') stages.push(record.stage);
    if (typeof record.indexName === 'string') indexes.push(record.indexName);
    Object.values(record).forEach(walk);
  };
  walk((explain.queryPlanner as Document | undefined)?.winningPlan);
  return { stages, indexes };
}

describe.skipIf(!target)('MongoDB store: the hot queries use their indexes', () => {
  const dbs = useDatabases(target);
  let db: Db;
  let store: MongoStore;

  beforeAll(async () => {
    db = dbs.fresh();
    store = mongoStore(db);
    await store.init();
    // Enough variety that the planner has a choice to make.
    for (let i = 0; i < 60; i++) {
      const schedule = i % 2 === 0 ? { kind: 'event' as const, event: `evt-${i % 6}` } : undefined;
      await store.insertTrigger(
        makeTrigger({ status: i % 3 === 0 ? 'paused' : 'active', nextFireAt: schedule ? null : at(i * 1_000), ...(schedule ? { schedule } : {}) }),
      );
    }
    const runs: RunRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = i % 3;
      const lease = { token: `token-${i}`, instanceId: 'instance-1', expiresAt: at(i * 1_000) };
      const base = { triggerId: `trg-explain-${i % 10}`, scheduledFor: at(i * 1_000) };
      runs.push(
        kind === 0
          ? makeRun({ ...base, priority: i % 4, taskType: i % 2 ? 'task-a' : 'task-b' })
          : kind === 1
            ? makeRun({ ...base, status: 'running', attempt: 1, startedAt: at(0), instanceId: 'instance-1', lease })
            : makeRun({ ...base, status: 'completed', attempt: 1, finishedAt: at(0), durationMs: 1, expiresAt: at(i * 1_000) }),
      );
    }
    expect(await store.insertRuns(runs)).not.toContain(false);
  });

  afterAll(async () => {
    if (db) await dbs.drop(db);
  });

  const explainFind = async (collection: string, filter: Filter<Document>, sort: Sort, limit: number) =>
    winningPlan(await db.collection(collection).find(filter, { sort, limit }).explain('queryPlanner'));

  const cases: { query: string; collection: () => string; filter: () => Filter<Document>; sort: Sort; index: string }[] = [
    {
      query: 'claimRuns candidates',
      collection: () => store.collections.runs,
      filter: () => q.claimCandidatesFilter({ now: at(100_000), taskTypes: ['task-a', 'task-b'] }) as Filter<Document>,
      sort: q.CLAIM_SORT,
      index: 'punctual_claim',
    },
    {
      query: 'claimRuns candidates, any task type',
      collection: () => store.collections.runs,
      filter: () => q.claimCandidatesFilter({ now: at(100_000) }) as Filter<Document>,
      sort: q.CLAIM_SORT,
      index: 'punctual_claim',
    },
    {
      query: 'findDueTriggers',
      collection: () => store.collections.triggers,
      filter: () => q.dueTriggersFilter(at(30_000)) as Filter<Document>,
      sort: q.DUE_TRIGGERS_SORT,
      index: 'punctual_due',
    },
    {
      query: 'findEventTriggers',
      collection: () => store.collections.triggers,
      filter: () => q.eventTriggersFilter('evt-2') as Filter<Document>,
      sort: q.TRIGGER_LIST_SORT,
      index: 'punctual_event',
    },
    {
      query: 'recoverExpiredLeases',
      collection: () => store.collections.runs,
      filter: () => q.expiredLeasesFilter(at(50_000)) as Filter<Document>,
      sort: q.EXPIRED_LEASES_SORT,
      index: 'punctual_lease_expiry',
    },
    {
      query: 'listRuns of a trigger',
      collection: () => store.collections.runs,
      filter: () => q.runListFilter({ triggerId: 'trg-explain-3', limit: 50 }) as Filter<Document>,
      sort: q.RUN_LIST_SORT,
      index: 'punctual_trigger_history',
    },
  ];

  it.each(cases)('$query: IXSCAN on $index, no collection scan, no in-memory sort', async ({ collection, filter, sort, index }) => {
    const plan = await explainFind(collection(), filter(), sort, 50);
    expect(plan.stages).toContain('IXSCAN');
    expect(plan.stages).not.toContain('COLLSCAN');
    expect(plan.stages).not.toContain('SORT');
    expect(plan.indexes).toContain(index);
  });

  it('purgeExpiredRuns: IXSCAN on the retention index', async () => {
    const plan = winningPlan(
      await db.collection(store.collections.runs).find(q.purgeableFilter(at(30_000)) as Filter<Document>, { limit: 100 }).explain('queryPlanner'),
    );
    expect(plan.stages).not.toContain('COLLSCAN');
    expect(plan.indexes).toContain('punctual_retention_ttl');
  });
});
