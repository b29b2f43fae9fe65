import { MAX_CURSOR_LENGTH } from './cursor.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { inRange, oneOf, rangeMessage } from './field-kit.js';
import { textIssue } from './json-limits.js';
import type { PageQuery } from './types.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/**
 * Validates paging parameters and applies defaults. `offset` is refused with a pointer to
 * cursors, so code written for offset paging fails loudly instead of re-reading page one.
 */
export function checkPage(query: PageQuery): { limit: number; cursor: string | undefined } {
  const issues: ValidationIssue[] = [];
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  if (!inRange(limit, 1, MAX_PAGE_SIZE)) issues.push({ path: 'limit', message: rangeMessage(1, MAX_PAGE_SIZE, query.limit) });
  if ((query as { offset?: unknown }).offset !== undefined) {
    issues.push({ path: 'offset', message: 'offset paging was removed: pass the nextCursor of the previous page as cursor' });
  }
  if (query.cursor !== undefined && (typeof query.cursor !== 'string' || query.cursor.length === 0 || query.cursor.length > MAX_CURSOR_LENGTH)) {
    issues.push({ path: 'cursor', message: `must be the nextCursor string of a previous page (at most ${MAX_CURSOR_LENGTH} characters)` });
  }
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid page');
  return { limit, cursor: query.cursor };
}

/** Checks an optional filter value against its allowed values; adds an issue when it is not one of them. */
export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], path: string, issues: ValidationIssue[]): void {
  if (value !== undefined) oneOf(allowed).check(value, path, issues, undefined);
}

/** Checks an optional string filter (task type, name, owner, id): 1-200 characters. */
export function checkText(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) issues.push({ path, message: 'must be a string of 1-200 characters' });
  else {
    const bad = textIssue(value, path);
    if (bad) issues.push(bad);
  }
}

/** Checks an optional Date filter. */
export function checkDate(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (value === undefined) return;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) issues.push({ path, message: 'must be a valid Date' });
}

/** Throws one ValidationError for all the issues found, if any. */
export function throwIfIssues(issues: ValidationIssue[], subject: string): void {
  if (issues.length > 0) throw ValidationError.from(issues, subject);
}
