/**
 * Arbitraries of hostile JSON, shared by the library's and the HTTP example's property tests:
 * deep nesting (around the depth limit and far beyond it), NUL and lone surrogates in strings
 * and keys, prototype-named keys, numbers beyond 2^53, huge arrays and long strings, mixed into
 * ordinary JSON.
 */
import fc from 'fast-check';
import { MAX_JSON_DEPTH } from '../src/json-limits.js';

export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'prototype'] as const;

/** `levels` nested arrays or objects around `leaf`, built without recursion. */
export function nest(levels: number, leaf: unknown, kind: 'array' | 'object'): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = kind === 'array' ? [value] : { k: value };
  return value;
}

/** An object with `key` as an own data property, whatever the key (`__proto__` included), as JSON.parse makes it. */
export function withKey(key: string, value: unknown): Record<string, unknown> {
  return JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`) as Record<string, unknown>;
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Strings with NUL or a lone surrogate somewhere. */
export const unstorableString = fc
  .tuple(fc.string({ maxLength: 8 }), fc.oneof(fc.constant('\u0000'), loneSurrogate), fc.string({ maxLength: 8 }))
  .map(([a, bad, b]) => `${a}${bad}${b}`);

export const bigNumber = fc.constantFrom(2 ** 53 + 2, 2 ** 64, -(2 ** 63), 1e300, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1, 0.1 + 0.2, -1.5e-300);

/** Depths at the limit, just beyond it, and far beyond (where recursive code overflows the stack). */
const depth = fc.oneof(fc.constantFrom(MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 5_000, 20_000), fc.integer({ min: 1, max: 200 }));

const deepShape = fc.tuple(depth, fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>, fc.jsonValue({ maxDepth: 1 }));

/** Hostile JSON that is not deeply nested (safe to pass to the recursive JSON.stringify). */
const shallowHostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  unstorableString,
  fc.tuple(unstorableString, fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => withKey(key, value)),
  fc.dictionary(unstorableString, fc.string(), { minKeys: 1, maxKeys: 2 }).map((o) => ({ nested: [o] })),
  fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => withKey(key, value)),
  fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.constantFrom(...PROTOTYPE_NAMES)).map(([a, b]) => ({ outer: withKey(a, withKey(b, 1)) })),
  bigNumber,
  fc.array(bigNumber, { minLength: 1, maxLength: 5 }).map((numbers) => ({ numbers })),
  fc.integer({ min: 10_000, max: 60_000 }).map((n) => ({ items: new Array<number>(n).fill(7) })),
  fc.integer({ min: 10_000, max: 200_000 }).map((n) => ({ text: 'é'.repeat(n) })),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => ({ text })),
);

/** Hostile JSON values: each is JSON.parse-able text's value (no undefined, no functions). */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  shallowHostileJson,
  deepShape.map(([n, kind, leaf]) => nest(n, leaf, kind)),
);

/** The same shapes as JSON text, deep nesting written directly (a client's JSON.stringify would overflow first). */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  shallowHostileJson.map((value) => JSON.stringify(value)),
  deepShape.map(([n, kind, leaf]) => {
    const [open, close] = kind === 'array' ? ['[', ']'] : ['{"k":', '}'];
    return `${open.repeat(n)}${JSON.stringify(leaf)}${close.repeat(n)}`;
  }),
);

/** True when `value` is within the limits: no NUL or lone surrogate, nesting at most MAX_JSON_DEPTH (a reference model, recursive on purpose for small values). */
export function withinLimits(value: unknown, level = 0): boolean {
  const bad = (s: string): boolean => s.includes('\u0000') || hasLoneSurrogate(s);
  if (typeof value === 'string') return !bad(value);
  if (typeof value !== 'object' || value === null) return true;
  if (level >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => withinLimits(v, level + 1));
  return Object.entries(value).every(([k, v]) => !bad(k) && withinLimits(v, level + 1));
}

/** A code-unit scan, independent of the library's regular expression. */
function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) return true;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/** Every item of a cursor-paged listing, counted (for before/after checks that nothing was written). */
export async function countAll(list: (page: { limit: number; cursor?: string }) => Promise<{ items: unknown[]; nextCursor: string | null }>): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await list({ limit: 500, ...(cursor ? { cursor } : {}) });
    count += page.items.length;
    if (!page.nextCursor) return count;
    cursor = page.nextCursor;
  }
}
