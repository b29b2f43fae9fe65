/**
 * The one place the dashboard calls the list APIs. Pages go out as `{ items, nextCursor }`, the
 * library's own shape: a cursor is the library's opaque cursor, handed back unchanged, so a page
 * stays exact while runs are added. Name search pages by its own cursors (`s<n>`), over the
 * matching triggers.
 */
import { ValidationError } from '../errors.js';
import type { RunListQuery } from '../runs.js';
import type { TriggerListQuery } from '../triggers.js';
import type { AuditEntry, RunRecord, TriggerRecord } from '../types.js';
import type { View } from './view.js';

export interface Listing<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The largest page the dashboard asks for. */
export const MAX_PAGE = 100;
/** Triggers a name search looks through. */
export const MAX_SEARCHED = 5_000;

export type TriggerFilters = Omit<TriggerListQuery, 'limit' | 'cursor'>;
export type RunFilters = Omit<RunListQuery, 'limit' | 'cursor'>;

const cursorOf = (cursor: string | undefined): { cursor?: string } => (cursor ? { cursor } : {});

export async function listTriggers(view: View, filters: TriggerFilters, cursor: string | undefined, limit: number): Promise<Listing<TriggerRecord>> {
  return view.triggers.list({ ...filters, limit, ...cursorOf(cursor) });
}

export async function listRuns(view: View, filters: RunFilters, cursor: string | undefined, limit: number): Promise<Listing<RunRecord>> {
  return view.runs.list({ ...filters, limit, ...cursorOf(cursor) });
}

export async function listAudit(view: View, triggerId: string, cursor: string | undefined, limit: number): Promise<Listing<AuditEntry>> {
  return view.audit({ triggerId, limit, ...cursorOf(cursor) });
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

/** Triggers whose name or task type contains `search` (any case), paged by position in the matches. */
export async function searchTriggers(view: View, filters: TriggerFilters, search: string, cursor: string | undefined, limit: number): Promise<Listing<TriggerRecord>> {
  if (cursor !== undefined && !/^s[0-9]{1,9}$/.test(cursor)) throw ValidationError.from([{ path: 'cursor', message: 'is not a cursor of this search' }], 'Invalid page');
  const start = cursor === undefined ? 0 : Number(cursor.slice(1));
  const needle = search.toLowerCase();
  const matching = (await allTriggers(view, filters, MAX_SEARCHED)).filter((t) => t.name.toLowerCase().includes(needle) || t.taskType.toLowerCase().includes(needle));
  const next = start + limit;
  return { items: matching.slice(start, next), nextCursor: next < matching.length ? `s${next}` : null };
}

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
