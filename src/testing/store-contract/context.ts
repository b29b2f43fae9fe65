import { expect } from 'vitest';
import type { ClaimRequest, LeaseRenewal, RunFinish, Store } from '../../stores/types.js';
import type { RunRecord, RunStatus, TriggerRecord } from '../../types.js';
import { fixtureDate as at, makeRun, makeTrigger } from '../fixtures.js';

export const DAY = 86_400_000;
export const CONFLICT = { name: 'ConflictError', code: 'CONFLICT' };

export const ids = (records: readonly { id: string }[]): string[] => records.map((r) => r.id);

/** An active trigger fired by the event `event` (no next slot). */
export const eventTrigger = (event: string, overrides: Partial<TriggerRecord> = {}): TriggerRecord =>
  makeTrigger({ schedule: { kind: 'event', event }, nextFireAt: null, ...overrides });

export function tokenOf(run: RunRecord | undefined): string {
  if (!run?.lease) throw new Error(`expected a leased run, got ${JSON.stringify(run)}`);
  return run.lease.token;
}

/** The store of the running test and helpers over it, shared by the contract's sections. */
export interface ContractContext {
  /** The current test's store (fresh for each test). */
  readonly store: Store;
  insertTriggers(...triggers: TriggerRecord[]): Promise<void>;
  insertRuns(...runs: RunRecord[]): Promise<void>;
  claim(now: Date, limit?: number, extra?: Partial<ClaimRequest>): Promise<RunRecord[]>;
  /** Inserts a run and claims it at its availableAt; the test must have no other claimable run. */
  claimed(overrides?: Partial<RunRecord>): Promise<RunRecord>;
  completion(run: RunRecord, token: string): Extract<RunFinish, { status: 'completed' }>;
  /** Renews one lease through `renewLeases` (a batch of one). */
  renew(runId: string, token: string, expiresAt: Date): Promise<LeaseRenewal>;
  /** How many runs of a trigger are in `status` (read through the history query). */
  countOf(triggerId: string, status: RunStatus): Promise<number>;
}

export function makeContext(current: () => Store): ContractContext {
  let tokens = 0;
  const get = (): Store => current();
  const insertTriggers = async (...triggers: TriggerRecord[]): Promise<void> => {
    for (const trigger of triggers) await get().insertTrigger(trigger);
  };
  const insertRuns = async (...runs: RunRecord[]): Promise<void> => {
    expect(await get().insertRuns(runs)).toEqual(runs.map(() => true));
  };
  const claim = (now: Date, limit = 10, extra: Partial<ClaimRequest> = {}): Promise<RunRecord[]> =>
    get().claimRuns({ now, instanceId: 'instance-1', token: `token-${++tokens}`, leaseMs: 30_000, limit, ...extra });
  /** Inserts a run and claims it at its availableAt; the test must have no other claimable run. */
  const claimed = async (overrides: Partial<RunRecord> = {}): Promise<RunRecord> => {
    const run = makeRun(overrides);
    await insertRuns(run);
    const got = await claim(run.availableAt, 1);
    expect(ids(got)).toEqual([run.id]);
    return got[0] as RunRecord;
  };
  const completion = (run: RunRecord, token: string): Extract<RunFinish, { status: 'completed' }> => ({
    runId: run.id,
    token,
    status: 'completed',
    finishedAt: at(5_000),
    durationMs: 5_000,
    result: { sent: 3 },
    expiresAt: at(DAY),
  });

  const renew = async (runId: string, token: string, expiresAt: Date): Promise<LeaseRenewal> => {
    const answers = await get().renewLeases([{ runId, token, expiresAt }]);
    expect(answers).toHaveLength(1);
    return answers[0] as LeaseRenewal;
  };

  const countOf = async (triggerId: string, status: RunStatus): Promise<number> =>
    (await get().listRuns({ triggerId, status, limit: 500 })).length;

  return {
    countOf,
    get store() {
      return current();
    },
    insertTriggers,
    insertRuns,
    claim,
    claimed,
    completion,
    renew,
  };
}
