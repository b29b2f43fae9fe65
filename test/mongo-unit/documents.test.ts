import { describe, expect, it } from 'vitest';
import {
  escapeKey, fromAuditDoc, legacyNameKey, fromRunDoc, fromStorable, fromTriggerDoc, isFinalStatus, nameKey, toAuditDoc, toRunDoc, toStorable, toTriggerDoc,
  unescapeKey, withoutId,
} from '../../src/stores/mongo/documents.js';
import { fixtureDate as at, makeAudit, makeRun, makeTrigger } from '../../src/testing/fixtures.js';
import { FINAL_RUN_STATUSES, type RunRecord } from '../../src/types.js';

describe('MongoDB documents', () => {
  it('maps a trigger to a document with _id and back', () => {
    const trigger = makeTrigger({ retry: { maxRetries: 2 }, metadata: { tags: ['a'] }, pausedReason: undefined });
    const doc = toTriggerDoc(trigger);
    expect(doc._id).toBe(trigger.id);
    expect(doc).not.toHaveProperty('id');
    expect(doc).not.toHaveProperty('pausedReason');
    expect(fromTriggerDoc(doc)).toEqual(trigger);
  });

  it('maps a run and back, with purgeAt only on a final run that expires', () => {
    const pending = makeRun({ expiresAt: at(5_000) });
    const pendingDoc = toRunDoc(pending);
    expect(pendingDoc._id).toBe(pending.id);
    expect(pendingDoc).not.toHaveProperty('purgeAt');
    expect(fromRunDoc(pendingDoc)).toEqual(pending);

    const done = makeRun({ status: 'completed', finishedAt: at(1), durationMs: 1, expiresAt: at(9_000), result: { ok: true } });
    const doneDoc = toRunDoc(done);
    expect(doneDoc.purgeAt?.getTime()).toBe(at(9_000).getTime());
    expect(fromRunDoc(doneDoc)).toEqual(done);
    expect(fromRunDoc(doneDoc)).not.toHaveProperty('purgeAt');

    expect(toRunDoc(makeRun({ status: 'timed_out', expiresAt: null }))).not.toHaveProperty('purgeAt');
  });

  it('maps an audit entry and back', () => {
    const entry = makeAudit({ details: { reason: 'holiday' }, runId: undefined });
    const doc = toAuditDoc(entry);
    expect(doc).toMatchObject({ _id: entry.id, action: entry.action });
    expect(doc).not.toHaveProperty('runId');
    expect(fromAuditDoc(doc)).toEqual(entry);
  });

  it('strips undefined properties at every depth, copying plain data', () => {
    const date = at(0);
    const input = { a: 1, b: undefined, nested: { c: undefined, d: [1, { e: undefined, f: 'x' }], date } };
    const output = toStorable(input);
    expect(output).toStrictEqual({ a: 1, nested: { d: [1, { f: 'x' }], date } });
    expect(output.nested.date).not.toBe(date);
    expect(toStorable(null)).toBeNull();
    expect(toStorable('text')).toBe('text');
  });

  it('keeps an own __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const output = toStorable(input);
    expect(Object.keys(output)).toEqual(['__proto__', 'ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('escapes the keys MongoDB cannot store as they are, reversibly, and only those', () => {
    const keys = ['user.plan', '$ref', 'a%b', '%2E', 'nul\u0000key', 'plain_key', '.$%'];
    for (const key of keys) expect(unescapeKey(escapeKey(key))).toBe(key);
    expect(escapeKey('user.plan')).toBe('user%2Eplan');
    expect(escapeKey('$ref')).toBe('%24ref');
    expect(escapeKey('a%b')).toBe('a%25b');
    expect(escapeKey('nul\u0000key')).toBe('nul%00key');
    expect(escapeKey('plain_key')).toBe('plain_key');
    for (const key of keys) expect(escapeKey(key)).not.toMatch(/[.$]/);
    for (const key of keys) expect(escapeKey(key).includes('\u0000')).toBe(false);
  });

  it('round-trips user data with such keys at any depth, leaving values alone', () => {
    const data = { filter: { 'user.plan': ['pro', null], $where: 'x.y', nested: [{ 'a.b': { '$c': 1 } }] }, 'x%': 'v.a$l' };
    const stored = toStorable(data);
    expect(stored).toEqual({ filter: { 'user%2Eplan': ['pro', null], '%24where': 'x.y', nested: [{ 'a%2Eb': { '%24c': 1 } }] }, 'x%25': 'v.a$l' });
    expect(fromStorable(stored)).toEqual(data);
    const trigger = makeTrigger({
      schedule: { kind: 'event', event: 'user.signup', filter: { 'user.plan': ['pro', 'team'], country: 'FR' } },
      payload: { $schema: 'v1', 'a.b': 1 },
    });
    expect(fromTriggerDoc(toTriggerDoc(trigger))).toEqual(trigger);
    expect(toTriggerDoc(trigger).schedule).toEqual({ kind: 'event', event: 'user.signup', filter: { 'user%2Eplan': ['pro', 'team'], country: 'FR' } });
  });

  it('builds unambiguous name keys', () => {
    expect(nameKey('owner-a', 'report')).toBe('owner-a/report');
    expect(nameKey('a/b', 'c')).toBe('a%2Fb/c');
    expect(nameKey('a', 'b/c')).not.toBe(nameKey('a/b', 'c'));
    expect(nameKey('a\u0000b', 'c')).not.toContain('\u0000');
    expect(legacyNameKey('owner-a', 'report')).toBe('owner-a\u0000report');
  });

  it('knows the final statuses', () => {
    for (const status of FINAL_RUN_STATUSES) expect(isFinalStatus(status)).toBe(true);
    for (const status of ['pending', 'running'] as RunRecord['status'][]) expect(isFinalStatus(status)).toBe(false);
  });

  it('drops _id for replacements', () => {
    expect(withoutId({ _id: 'x', a: 1 })).toEqual({ a: 1 });
  });
});
