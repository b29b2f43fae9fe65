import { ValidationError, type ValidationIssue } from './errors.js';

/**
 * Adds an issue for each key of `value` that is not in `known`, so a misspelt or unsupported
 * option (`runNow(id, { delayMS })`) is rejected instead of silently ignored.
 */
export function unknownKeyIssues(value: unknown, known: readonly string[], prefix = ''): ValidationIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ path: `${prefix}${key}`, message: `is not a known option; valid: ${known.join(', ')}` }));
}

/**
 * Checks an options argument: undefined or a plain object whose keys are all in `known`.
 * Throws one ValidationError naming every unknown key.
 */
export function checkOptionKeys(value: unknown, known: readonly string[], subject: string): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ValidationError.from([{ path: '', message: 'options must be an object' }], subject);
  }
  const issues = unknownKeyIssues(value, known);
  if (issues.length > 0) throw ValidationError.from(issues, subject);
}
