import { ValidationError, type ValidationIssue } from './errors.js';
import { preview, textIssue } from './json-limits.js';
import type { PageQuery } from './types.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Validates paging parameters and applies defaults. */
export function checkPage(query: PageQuery): { limit: number; offset: number } {
  const issues: ValidationIssue[] = [];
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    issues.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${preview(query.limit)}` });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > 1_000_000) {
    issues.push({ path: 'offset', message: `must be an integer from 0 to 1000000, got ${preview(query.offset)}` });
  }
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid page');
  return { limit, offset };
}

/** Checks an optional filter value against its allowed values; adds an issue when it is not one of them. */
export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], path: string, issues: ValidationIssue[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    issues.push({ path, message: `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${preview(value)}` });
  }
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
