import { ValidationError, type ValidationIssue } from './errors.js';
import type { PageQuery } from './types.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Validates paging parameters and applies defaults. */
export function checkPage(query: PageQuery): { limit: number; offset: number } {
  const issues: ValidationIssue[] = [];
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    issues.push({ path: 'limit', message: `must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${JSON.stringify(query.limit)}` });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > 1_000_000) {
    issues.push({ path: 'offset', message: `must be an integer from 0 to 1000000, got ${JSON.stringify(query.offset)}` });
  }
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid page');
  return { limit, offset };
}
