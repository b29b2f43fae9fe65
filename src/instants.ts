/** Instants given by users: a Date, or an ISO-8601 string with an explicit offset (`Z`, `+02:00`). */

/** Milliseconds of a Date or of an ISO-8601 string with an offset; NaN otherwise. */
export function instantMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' && /(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return Date.parse(value);
  return Number.NaN;
}
