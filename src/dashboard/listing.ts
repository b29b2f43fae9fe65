/**
 * The one place the dashboard calls the list APIs. Pages go out as `{ items, nextCursor }`;
 * a cursor is opaque to the browser. Today's list APIs page by offset, so a cursor here is the
 * next offset; switching to store cursors changes this file only.
 */
import { ValidationError } from '../errors.js';
import type { RunListQuery } from '../runs.js';
import type { TriggerListQuery } from '../triggers.js';
import type { AuditEntry, Page, RunRecord, TriggerRecord } from '../types.js';
import type { View } from './view.js';

export interface Listing<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The largest page the dashboard asks for. */
export const MAX_PAGE = 100;

export type TriggerFilters = Omit<TriggerListQuery, 'limit' | 'offset'>;
export type RunFilters = Omit<RunListQuery, 'limit' | 'offset'>;

/** Decodes a cursor made by this module; anything else is a ValidationError. */
function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^o[0-9]{1,9}$/.test(cursor)) throw ValidationError.from([{ path: 'cursor', message: 'is not a cursor this dashboard gave out' }], 'Invalid page');
  return Number(cursor.slice(1));
}

function listingOf<T>(page: Page<T>): Listing<T> {
  const next = page.offset + page.items.length;
  return { items: page.items, nextCursor: page.items.length > 0 && next < page.total ? `o${next}` : null };
}

export async function listTriggers(view: View, filters: TriggerFilters, cursor: string | undefined, limit: number): Promise<Listing<TriggerRecord>> {
  return listingOf(await view.triggers.list({ ...filters, limit, offset: offsetOf(cursor) }));
}

export async function listRuns(view: View, filters: RunFilters, cursor: string | undefined, limit: number): Promise<Listing<RunRecord>> {
  return listingOf(await view.runs.list({ ...filters, limit, offset: offsetOf(cursor) }));
}

export async function listAudit(view: View, triggerId: string, cursor: string | undefined, limit: number): Promise<Listing<AuditEntry>> {
  return listingOf(await view.audit({ triggerId, limit, offset: offsetOf(cursor) }));
}

/**
 * Every trigger of the view matching `filters`, up to `cap`, in pages of MAX_PAGE: for the name
 * search and the Upcoming timeline, which look across all triggers.
 */
export async function allTriggers(view: View, filters: TriggerFilters, cap: number): Promise<TriggerRecord[]> {
  const found: TriggerRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTriggers(view, filters, cursor, MAX_PAGE);
    found.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && found.length < cap);
  return found.slice(0, cap);
}

/** Triggers whose name or task type contains `search` (any case), paged like the others. */
export async function searchTriggers(view: View, filters: TriggerFilters, search: string, cursor: string | undefined, limit: number): Promise<Listing<TriggerRecord>> {
  const needle = search.toLowerCase();
  const matching = (await allTriggers(view, filters, MAX_SEARCHED)).filter((t) => t.name.toLowerCase().includes(needle) || t.taskType.toLowerCase().includes(needle));
  const offset = offsetOf(cursor);
  return listingOf({ items: matching.slice(offset, offset + limit), total: matching.length, limit, offset });
}

/** Triggers a name search looks through. */
export const MAX_SEARCHED = 5_000;

/** Counts runs matching `filters`, up to `cap` (then `capped` is true). */
export async function countRuns(view: View, filters: RunFilters, cap: number): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await listRuns(view, filters, cursor, MAX_PAGE);
    count += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && count < cap);
  return { count: Math.min(count, cap), capped: cursor !== undefined || count > cap };
}
