import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';
import type { Page } from './types.js';

/**
 * Keyset cursors for the listings. A cursor names the last item of a page (its sort key and id)
 * and is bound to the query that listed it: the listing, the view's owner, the filters and the
 * sort. Its check value is a hash over all of these, so a cursor that was altered, or that is
 * passed with other filters, another sort or another owner's view, is rejected with a
 * ValidationError instead of silently paging something else.
 *
 * A cursor carries no authority: every listing applies its view's owner itself, so even a
 * well-formed cursor forged by hand can only position a page inside data the caller may read.
 */

/** A sort key value as a cursor holds it: epoch milliseconds for instants, the text for names. */
export type CursorKey = number | string;

/** Which type the sort key of a listing has. */
export type CursorKeyKind = 'time' | 'text';

/** The query a cursor belongs to: listing name, sort and every filter (undefined ones left out). */
export type CursorBinding = Record<string, string | number | boolean | Date | undefined>;

const VERSION = 'c1';
const CHECK_LENGTH = 22; // base64url characters: 132 bits of SHA-256
/** Longer than any cursor this module makes (a 200-character id and key, in base64url). */
export const MAX_CURSOR_LENGTH = 1_200;

const INVALID =
  'is not a cursor of this listing: pass the nextCursor of the previous page, listed with the same filters, sort and view';

/** The cursor that resumes after an item with sort key `key` and id `id`. */
export function encodeCursor(binding: CursorBinding, key: CursorKey, id: string): string {
  const body = Buffer.from(JSON.stringify([key, id]), 'utf8').toString('base64url');
  return `${VERSION}.${body}.${check(binding, body)}`;
}

/**
 * The position a cursor names, after checking it belongs to `binding`. Throws a ValidationError
 * (path `cursor`) for anything else: a malformed or altered cursor, or one from another query.
 */
export function decodeCursor(cursor: unknown, binding: CursorBinding, keyKind: CursorKeyKind): { key: CursorKey; id: string } {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw invalid();
  const parts = cursor.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw invalid();
  const [, body, given] = parts as [string, string, string];
  if (given !== check(binding, body)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid();
  const [key, id] = decoded as [unknown, unknown];
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) throw invalid();
  if (keyKind === 'time' && !(typeof key === 'number' && Number.isSafeInteger(key) && !Number.isNaN(new Date(key).getTime()))) throw invalid();
  if (keyKind === 'text' && !(typeof key === 'string' && key.length > 0 && key.length <= 200)) throw invalid();
  return { key: key as CursorKey, id };
}

function check(binding: CursorBinding, body: string): string {
  return createHash('sha256').update(`punctual-cursor\n${canonical(binding)}\n${body}`).digest('base64url').slice(0, CHECK_LENGTH);
}

/** One string per binding, whatever the key order; undefined entries are left out. */
function canonical(binding: CursorBinding): string {
  const entries = Object.entries(binding)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

function invalid(): ValidationError {
  return ValidationError.from([{ path: 'cursor', message: INVALID }], 'Invalid cursor');
}

/**
 * One page out of `rows`, which the store listed with `limit + 1`: an extra row means there is
 * more, and the page's last item becomes the cursor.
 */
export function pageOf<T extends { id: string }>(rows: T[], limit: number, binding: CursorBinding, keyOf: (item: T) => CursorKey): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as T;
  return { items, nextCursor: encodeCursor(binding, keyOf(last), last.id) };
}
