import type { CustomTypesConfig } from 'pg';

/**
 * How the store reads column values, passed as `types` with each of its queries. Its
 * statements return only text, booleans, integers and timestamps (jsonb is selected as text,
 * bigints stay strings as in `pg`), so a few parsers cover them all. Having its own also makes
 * the store deaf to parsers the host registered globally with `pg.types.setTypeParser`.
 */

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const TIMESTAMPTZ = 1184;

/** The slow path: `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]][ BC]`, any number of year digits. */
const TIMESTAMPTZ_TEXT = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?( BC)?$/;

function parseTimestamptzSlowly(text: string): Date {
  const m = TIMESTAMPTZ_TEXT.exec(text);
  if (!m) return new Date(Number.NaN);
  const [, year, month, day, hours, minutes, seconds, fraction, sign, offsetH, offsetM, offsetS, bc] = m;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(bc ? 1 - Number(year) : Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), Math.floor(Number(fraction ?? 0) * 1000));
  const offsetSeconds = Number(offsetH) * 3600 + Number(offsetM ?? 0) * 60 + Number(offsetS ?? 0);
  return new Date(date.getTime() - (sign === '-' ? -offsetSeconds : offsetSeconds) * 1000);
}

/**
 * A timestamptz as PostgreSQL writes it in the ISO DateStyle (`2026-01-01 00:00:00.123456+00`).
 * V8 reads that form natively, several times faster than `pg`'s regular expression, and dates
 * are a good part of decoding a claimed run. But V8 misreads years before 1000 (`0044` as
 * 2004 or 1944), so only years 1000-9999 take that path; V8 rejects the other rare forms (BC,
 * offsets with seconds from historical time zones), which then take the slow path too.
 */
export function parseTimestamptz(text: string): Date {
  if (text.charCodeAt(0) === 48 /* 0 */ || text.charCodeAt(4) !== 45 /* - */) return parseTimestamptzSlowly(text);
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? parseTimestamptzSlowly(text) : date;
}

const PARSERS = new Map<number, (text: string) => unknown>([
  [BOOL, (text) => text === 't'],
  [INT2, (text) => Number.parseInt(text, 10)],
  [INT4, (text) => Number.parseInt(text, 10)],
  [TIMESTAMPTZ, parseTimestamptz],
]);

const asText = (text: string): string => text;

/** Parsers for the store's own queries: anything not listed above is left as text. */
export const STORE_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number) => PARSERS.get(oid) ?? asText) as CustomTypesConfig['getTypeParser'],
};
