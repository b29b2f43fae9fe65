import { ValidationError } from '../errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Smallest interval: shorter ones are better served by a loop in the handler. */
export const MIN_DURATION_MS = 1_000;
/** Longest interval, 366 days. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;

/** Bounds for {@link parseDurationMs}; both inclusive. */
export interface DurationBounds {
  /** Default 1,000 (1 s). */
  minMs?: number;
  /** Default 366 days. */
  maxMs?: number;
}

/**
 * Milliseconds from a positive integer of ms or a duration string made of number+unit parts,
 * units `ms`, `s`, `m`, `h`, `d`, `w` (`'30s'`, `'1h30m'`, `'1.5h'`). The result must be a whole
 * number of ms within the bounds (default 1 s .. 366 days). Throws a {@link ValidationError} whose
 * issue carries `path`.
 * @example parseDurationMs('1h30m', 'schedule.every') // 5_400_000
 */
export function parseDurationMs(value: number | string, path: string, bounds: DurationBounds = {}): number {
  const { minMs = MIN_DURATION_MS, maxMs = MAX_DURATION_MS } = bounds;
  const fail = (message: string): never => {
    throw ValidationError.from([{ path, message }], 'Invalid duration');
  };
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) fail(`${String(value)} is not a whole number of milliseconds`);
    ms = value;
  } else if (typeof value === 'string') {
    ms = parseDurationString(value) ?? fail(`"${value}" is not a duration; write ms or a string such as '30s', '5m', '2h', '1d', '1h30m' (units ms, s, m, h, d, w)`);
    if (!Number.isInteger(ms)) fail(`"${value}" is not a whole number of milliseconds`);
  } else {
    return fail(`expected milliseconds or a duration string such as '5m', got ${typeof value}`);
  }
  if (ms < minMs) fail(`${describe(value)} is shorter than the minimum of ${formatMs(minMs)}`);
  if (ms > maxMs) fail(`${describe(value)} is longer than the maximum of ${formatMs(maxMs)}`);
  return ms;
}

function parseDurationString(text: string): number | null {
  const source = text.trim();
  if (source === '') return null;
  const seen = new Set<Unit>();
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < source.length) {
    const match = PART.exec(source);
    if (!match) return null;
    const unit = match[2] as Unit;
    if (seen.has(unit)) return null;
    seen.add(unit);
    total += Number(match[1]) * UNIT_MS[unit];
    // Allow one optional space between parts ('1h 30m').
    if (source[PART.lastIndex] === ' ') PART.lastIndex += 1;
  }
  // Round away binary noise from decimals ('0.1s' * 1000); a real fraction of a ms stays a fraction.
  return Math.round(total * 1e6) / 1e6;
}

function describe(value: number | string): string {
  return typeof value === 'number' ? `${value} ms` : `"${value}"`;
}

/** 90_000 -> '1m30s'; for messages. */
export function formatMs(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length > 0 ? parts.join('') : '0ms';
}
