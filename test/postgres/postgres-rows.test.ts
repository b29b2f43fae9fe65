/** The PostgreSQL store's pure parts: row mapping, error classification, names. No server needed. */
import { describe, expect, it } from 'vitest';
import { classifyPgError } from '../../src/stores/postgres/errors.js';
import { decodeAudit, decodeRun, decodeTrigger, encodeAudit, encodeFinish, encodeRun, encodeTrigger } from '../../src/stores/postgres/rows.js';
import { parseTimestamptz, STORE_TYPES } from '../../src/stores/postgres/parsers.js';
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
      i: 0, status: 'pending', undo_attempt: true, available_at: at(1).toISOString(),
    });
    const completed = encodeFinish({ ...base, status: 'completed', finishedAt: at(2), durationMs: 2, expiresAt: at(3), result: undefined }, 1);
    expect(completed).toMatchObject({ i: 1, has_result: true, duration_ms: 2 });
    expect(completed.result).toBeUndefined();
    const noResult = encodeFinish({ ...base, status: 'completed', finishedAt: at(2), durationMs: 2, expiresAt: at(3) }, 2);
    expect(noResult.has_result).toBe(false);
    const failed = encodeFinish({ ...base, status: 'failed', finishedAt: at(2), durationMs: 2, expiresAt: at(3), error: { name: 'E', message: 'm' } }, 3);
    expect(failed).toMatchObject({ error: { name: 'E', message: 'm' } });
  });

  it('encodes a finish as the same JSON as its Dates would give', () => {
    const attemptRecord = { attempt: 2, instanceId: 'i', startedAt: at(1), finishedAt: at(2), outcome: 'failed' as const, error: { name: 'E', message: 'm' } };
    const finish = { runId: 'r', token: 't', status: 'failed' as const, finishedAt: at(2), durationMs: 1, expiresAt: at(3), error: { name: 'E', message: 'm' }, attemptRecord };
    const viaDates = { i: 0, run_id: 'r', token: 't', status: 'failed', attempt_record: attemptRecord, finished_at: at(2), duration_ms: 1, expires_at: at(3), error: finish.error };
    expect(JSON.parse(JSON.stringify(encodeFinish(finish, 0)))).toEqual(JSON.parse(JSON.stringify(viaDates)));
    const invalid = encodeFinish({ runId: 'r', token: 't', status: 'pending', availableAt: new Date(Number.NaN) }, 1);
    expect(invalid.available_at).toBeNull();
  });
});

describe('column parsers', () => {
  it.each([
    ['2026-01-01 00:00:00+00', '2026-01-01T00:00:00.000Z'],
    ['2026-11-22 23:10:30.123456+00', '2026-11-22T23:10:30.123Z'],
    ['2026-11-22 23:10:30.1+05:30', '2026-11-22T17:40:30.100Z'],
    ['2026-11-22 23:10:30.999-03', '2026-11-23T02:10:30.999Z'],
    ['1000-03-01 12:00:00-09:30', '1000-03-01T21:30:00.000Z'],
    // Forms V8 misreads or rejects: years before 1000, offsets with seconds, BC, years past 9999.
    ['0044-03-15 12:00:00+00', '0044-03-15T12:00:00.000Z'],
    ['0999-12-31 23:59:59.5+00', '0999-12-31T23:59:59.500Z'],
    ['1890-01-01 00:00:00+00:53:28', '1889-12-31T23:06:32.000Z'],
    ['0001-01-01 00:00:00+00 BC', '0000-01-01T00:00:00.000Z'],
    ['12026-01-01 00:00:00+00', '+012026-01-01T00:00:00.000Z'],
  ])('reads the timestamptz %s', (text, iso) => {
    expect(parseTimestamptz(text).toISOString()).toBe(iso);
  });

  it('reads booleans and integers, and leaves everything else as text', () => {
    const parse = (oid: number, text: string): unknown => (STORE_TYPES.getTypeParser(oid, 'text') as (t: string) => unknown)(text);
    expect([parse(16, 't'), parse(16, 'f'), parse(23, '-42'), parse(21, '7')]).toEqual([true, false, -42, 7]);
    expect([parse(20, '9007199254740993'), parse(25, 'x'), parse(3802, '{"a":1}')]).toEqual(['9007199254740993', 'x', '{"a":1}']);
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
