import { describe, expect, it } from 'vitest';
import { createScheduler, memoryStore } from 'punctual';
import { jsonIssue, MAX_JSON_DEPTH, MAX_JSON_VALUES, preview, storableText } from '../../src/json-limits.js';
import { nest, withKey } from '../hostile-json.js';

describe('jsonIssue', () => {
  it('accepts nesting up to the limit and names the field beyond it', () => {
    expect(jsonIssue(nest(MAX_JSON_DEPTH, 1, 'array'), 'payload')).toBeNull();
    expect(jsonIssue(nest(MAX_JSON_DEPTH + 1, 1, 'object'), 'payload')).toEqual({ path: 'payload', message: `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep` });
  });

  it('walks 200,000 levels without exhausting the stack', () => {
    expect(jsonIssue(nest(200_000, null, 'array'), 'metadata')?.path).toBe('metadata');
  });

  it('stops at the value budget when shared references make a small object huge', () => {
    let shared: unknown = 1;
    for (let i = 0; i < 40; i++) shared = [shared, shared]; // 2^40 values, 40 levels
    expect(jsonIssue(shared, 'payload')).toEqual({ path: 'payload', message: `must hold at most ${MAX_JSON_VALUES} values` });
  });

  it('names the string or key that holds NUL or a lone surrogate', () => {
    expect(jsonIssue({ a: [1, 'x\u0000'] }, 'payload')?.path).toBe('payload.a.1');
    expect(jsonIssue({ a: '\ud800' }, 'data')?.path).toBe('data.a');
    expect(jsonIssue({ b: '\udc00x' }, 'data')?.path).toBe('data.b');
    expect(jsonIssue(withKey('k\u0000', 1), 'metadata')).toEqual({ path: 'metadata.k\\u0000', message: 'has a key that must not contain NUL (\\u0000) or unpaired surrogate characters' });
    expect(jsonIssue({ emoji: '🎉 é 𝄞' }, 'payload')).toBeNull();
  });

  it('accepts prototype-named keys as data and refuses what JSON cannot hold alike everywhere', () => {
    expect(jsonIssue(withKey('__proto__', { constructor: { prototype: 1 } }), 'payload')).toBeNull();
    for (const bad of [Number.NaN, Infinity, 1n, () => 1, Symbol('s'), new Map(), new (class Point {})(), [undefined], new Date(0)]) {
      expect(jsonIssue({ v: bad }, 'payload')?.path, String(typeof bad)).toMatch(/^payload\.v/);
    }
    expect(jsonIssue({ at: new Date(0), missing: undefined }, 'result', { dates: true })).toBeNull();
  });
});

describe('preview', () => {
  it('is short and safe for any value', () => {
    expect(preview('x'.repeat(10_000))).toBe(`"${'x'.repeat(60)}…" (10000 characters)`);
    expect(preview(nest(100_000, 1, 'array'))).toBe('an array of 1 items');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(preview(cyclic)).toBe('an object');
    expect([preview(2 ** 64), preview(null), preview(undefined), preview(1n), preview('a\u0000')]).toEqual(['18446744073709552000', 'null', 'undefined', 'a BigInt', '"a\ufffd"']);
  });
});

describe('storableText', () => {
  it('replaces NUL and lone surrogates, keeps pairs', () => {
    expect(storableText('a\u0000b\ud800c\udc00 𝄞')).toBe('a\ufffdb\ufffdc\ufffd 𝄞');
  });
});

describe('configuration errors', () => {
  it('quote bad option values through the preview, so a BigInt or a cycle is a ConfigurationError, not a TypeError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const make = (options: Record<string, unknown>) => () => createScheduler({ handlers: {}, store: memoryStore(), ...options } as never);
    expect(make({ pollIntervalMs: 10n })).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining('got a BigInt') }));
    expect(make({ misfire: cyclic })).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining('got an object') }));
    expect(make({ calendars: { c: { weekly: [{ from: cyclic, to: '10:00', days: [1] }] } } })).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
});
