import { FINAL_RUN_STATUSES } from '../../types.js';
import type { Column } from './rows.js';

/** Column definitions for `jsonb_to_record(set)`: jsonb columns arrive as JSON text. */
export function recordDefs(cols: readonly Column[]): string {
  return cols.map((c) => `${c.name} ${c.type === 'jsonb' ? 'text' : c.type}`).join(', ');
}

/** Values to write from a `jsonb_to_record(set)` alias. */
export function recordValues(cols: readonly Column[], alias: string): string {
  return cols.map((c) => (c.type === 'jsonb' ? `${alias}.${c.name}::jsonb` : `${alias}.${c.name}`)).join(', ');
}

/** Columns to read: jsonb as text, so JSON `null` and SQL NULL stay apart. */
export function selectList(cols: readonly Column[], alias: string): string {
  return cols.map((c) => (c.type === 'jsonb' ? `${alias}.${c.name}::text AS ${c.name}` : `${alias}.${c.name}`)).join(', ');
}

/** The column names, comma-separated. */
export function names(cols: readonly Column[]): string {
  return cols.map((c) => c.name).join(', ');
}

/** The final run statuses as an SQL list: `'completed', 'failed', ...`. */
export const FINAL = FINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Builds one keyset page of a listing. `filters` maps a column expression to a value; undefined
 * values are left out. A key may end in an operator (`scheduled_for >=`, `name LIKE`); the
 * default is `=`. A key that is a row (`(created_at, id) >`) takes an array of values, compared
 * as a row, which an index on those columns serves in the same order. `from` may be a function
 * of the WHERE clause, for a listing over several tables (see `RunSql.listRuns`).
 */
export function listStatement(
  from: string | ((where: string) => string),
  select: string,
  filters: Record<string, unknown>,
  orderBy: string,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  for (const [key, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    const operator = /(<=|>=|<|>|=|LIKE)$/.test(key) ? '' : ' =';
    const operand = Array.isArray(value) ? `(${value.map(param).join(', ')})` : param(value);
    where.push(`${key}${operator} ${operand}`);
  }
  const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  const cut = Math.max(0, Math.floor(limit));
  const source = typeof from === 'string' ? `${from}${clause}` : from(clause);
  return { text: `SELECT ${select} FROM ${source} ORDER BY ${orderBy} LIMIT ${cut}`, values };
}

/** A LIKE pattern matching every text that starts with `prefix` (its `%`, `_` and backslash taken literally). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
