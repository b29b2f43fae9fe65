/** The PostgreSQL store's pure parts: row mapping, error classification, names. No server needed. */
import { describe, expect, it } from 'vitest';
import { classifyPgError } from '../../src/stores/postgres/errors.js';
import { decodeAudit, decodeRun, decodeTrigger, encodeAudit, encodeFinish, encodeRun, encodeTrigger } from '../../src/stores/postgres/rows.js';
import { advisoryLockKey, channelName, validateSchemaName } from '../../src/stores/postgres/schema.js';
import { fixtureDate as at, makeAudit, makeRun, makeTrigger } from '../../src/testing/fixtures.js';

/** What PostgreSQL hands back for a row written from `encoded`: timestamps as Dates, the rest as sent. */
function throughJson(encoded: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(encoded)) as Record<string, unknown>;
}

describe('row mapping', () => {
  it('round-trips a full run, Dates inside JSON included', () => {
    const run = makeRun({
      status: 'running', attempt: 2, startedAt: at(5), instanceId: 'i-1', result: { ok: true }, error: { name: 'E', message: 'm' },
      lease: { token: 'tok', instanceId: 'i-1', expiresAt: at(30_000) }, progress: { percent: 50, note: 'half', at: at(6) },
      event: { name: 'evt', data: [1, 'two'], publishedAt: at(-5) }, durationMs: 12, cancelRequested: true,
      attempts: [{ attempt: 1, instanceId: 'i-0', startedAt: at(1), finishedAt: at(2), outcome: 'retry' }],
    });
    expect(decodeRun(throughJson(encodeRun(run)))).toEqual(run);
  });

  it('writes undefined as SQL NULL and null as JSON null, and reads each back as it was', () => {
    const withNulls = makeRun({ payload: null, result: null });
    const row = throughJson(encodeRun(withNulls));
    expect(row).toMatchObject({ payload: 'null', result: 'null' });
    const back = decodeRun(row);
    expect(back.payload).toBeNull();
    expect(back.result).toBeNull();
    const bare = makeRun();
    const bareRow = throughJson(encodeRun(bare));
    expect('result' in bareRow).toBe(false);
    expect('result' in decodeRun(bareRow)).toBe(false);
    expect(decodeRun({ ...bareRow, duration_ms: '1234' }).durationMs).toBe(1_234);
  });

  it('round-trips triggers, optional fields absent when unset', () => {
    const full = makeTrigger({ timeoutMs: 5_000, retry: { maxRetries: 1 }, pausedReason: 'why', metadata: { a: [1] }, nextFireAt: null });
    expect(decodeTrigger(throughJson(encodeTrigger(full)))).toEqual(full);
    const bare = decodeTrigger(throughJson(encodeTrigger(makeTrigger())));
    for (const key of ['timeoutMs', 'retry', 'pausedReason', 'metadata', 'timing', 'autoPause']) expect(key in bare).toBe(false);
  });

  it('round-trips timing, auto-pause and pauseAfterFailures, absent when unset', () => {
    const trigger = makeTrigger({
      schedule: { kind: 'event', event: 'user.signup', filter: { plan: ['pro', null] }, debounceMs: 1_000 },
      timing: { startAt: at(0).toISOString(), endAt: at(1_000).toISOString(), maxRuns: 5, jitterMs: 10, calendars: ['c'] },
      autoPause: { afterFailures: 3, consecutiveFailures: 2 },
      overlap: 'cancel-previous',
    });
    const row = throughJson(encodeTrigger(trigger));
    expect(row).toMatchObject({ auto_pause: '{"afterFailures":3,"consecutiveFailures":2}' });
    expect(decodeTrigger(row)).toEqual(trigger);
    expect(decodeTrigger({ ...row, timing: null, auto_pause: null })).not.toHaveProperty('timing');
    const run = makeRun({ pauseAfterFailures: 3 });
    expect(throughJson(encodeRun(run))).toMatchObject({ pause_after_failures: 3 });
    expect(decodeRun(throughJson(encodeRun(run)))).toEqual(run);
    const bareRow = throughJson(encodeRun(makeRun()));
    expect('pause_after_failures' in bareRow).toBe(false);
    expect('pauseAfterFailures' in decodeRun({ ...bareRow, pause_after_failures: null })).toBe(false);
  });

  it('round-trips audit entries', () => {
    const entry = makeAudit({ runId: 'run-1', details: { reason: 'x' } });
    expect(decodeAudit(throughJson(encodeAudit(entry)))).toEqual(entry);
    const bare = decodeAudit(throughJson(encodeAudit(makeAudit())));
    expect('runId' in bare || 'details' in bare).toBe(false);
  });

  it('encodes each kind of finish with only the fields it sets', () => {
    const base = { runId: 'r', token: 't' };
    expect(encodeFinish({ ...base, status: 'pending', availableAt: at(1), undoAttempt: true }, 0)).toMatchObject({
      i: 0, status: 'pending', undo_attempt: true, available_at: at(1),
    });
    const completed = encodeFinish({ ...base, status: 'completed', finishedAt: at(2), durationMs: 2, expiresAt: at(3), result: undefined }, 1);
    expect(completed).toMatchObject({ i: 1, has_result: true, duration_ms: 2 });
    expect(completed.result).toBeUndefined();
    const noResult = encodeFinish({ ...base, status: 'completed', finishedAt: at(2), durationMs: 2, expiresAt: at(3) }, 2);
    expect(noResult.has_result).toBe(false);
    const failed = encodeFinish({ ...base, status: 'failed', finishedAt: at(2), durationMs: 2, expiresAt: at(3), error: { name: 'E', message: 'm' } }, 3);
    expect(failed).toMatchObject({ error: '{"name":"E","message":"m"}' });
  });
});

describe('classifyPgError', () => {
  it.each([
    [{ code: '23505' }, 'duplicate'],
    [{ code: '08006' }, 'transient'],
    [{ code: '08001' }, 'transient'],
    [{ code: '57P01' }, 'transient'],
    [{ code: '57P02' }, 'transient'],
    [{ code: '57P03' }, 'transient'],
    [{ code: '40001' }, 'transient'],
    [{ code: '40P01' }, 'transient'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'transient'],
    [Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), 'transient'],
    [new Error('Connection terminated unexpectedly'), 'transient'],
    [{ code: '42P01' }, 'other'],
    [{ code: '23502' }, 'other'],
    ['a string', 'other'],
    [null, 'other'],
  ])('%o is %s', (error, kind) => {
    expect(classifyPgError(error)).toBe(kind);
  });
});

describe('schema names', () => {
  it('accepts identifiers only', () => {
    expect(validateSchemaName('punctual_jobs')).toBe('punctual_jobs');
    for (const bad of ['', '1abc', 'a-b', 'a"b', 'x'.repeat(56), 42]) expect(() => validateSchemaName(bad)).toThrow(/schema must be/);
  });

  it('derives a stable advisory lock key and channel per schema', () => {
    expect(advisoryLockKey('punctual')).toBe(advisoryLockKey('punctual'));
    expect(advisoryLockKey('punctual')).not.toBe(advisoryLockKey('punctual2'));
    const key = BigInt(advisoryLockKey('jobs'));
    expect(key >= -(2n ** 63n) && key < 2n ** 63n).toBe(true);
    expect(channelName('jobs')).toBe('jobs_changes');
  });
});
