/**
 * Local wall time <-> instants in an IANA zone. A wall time is held as "floating" epoch ms: the
 * local date and time read as if they were UTC, so 2026-03-08 02:30 in New York is
 * Date.UTC(2026, 2, 8, 2, 30) whatever the offset.
 */
import { IANAZone } from 'luxon';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** How a wall time maps to real time. */
export type WallKind = 'normal' | 'gap' | 'repeated';

export interface WallInstant {
  /** When the wall time fires: its only instant, the earlier of two, or the end of the gap. */
  instant: number;
  kind: WallKind;
  /**
   * For `gap` and `repeated`: the first wall time after the anomaly (the gap's end, or the end of
   * the repeated range). Every wall time from this one's up to it maps to an instant at or before
   * `instant`'s transition, which lets callers skip them in one step.
   */
  resumeWall?: number;
}

/** Names of zones that are UTC at every instant (lower case: zone names match case-insensitively). */
const UTC_NAMES = new Set([
  'utc', 'etc/utc', 'uct', 'etc/uct', 'gmt', 'etc/gmt', 'gmt0', 'etc/gmt0', 'etc/gmt+0', 'etc/gmt-0',
  'greenwich', 'etc/greenwich', 'universal', 'etc/universal', 'zulu', 'etc/zulu',
]);

/** Zones known to be UTC throughout: their offset needs no lookup (one costs about 5 us). */
const utcZones = new WeakSet<IANAZone>();

export function zoneOf(name: string): IANAZone {
  const zone = IANAZone.create(name);
  if (UTC_NAMES.has(name.toLowerCase())) utcZones.add(zone);
  return zone;
}

/** Offset of the zone at an instant, in minutes (luxon's unit). */
function offsetAt(zone: IANAZone, instant: number): number {
  return utcZones.has(zone) ? 0 : zone.offset(instant);
}

/** The floating wall time of an instant. */
export function wallOf(zone: IANAZone, instant: number): number {
  return instant + offsetAt(zone, instant) * MINUTE_MS;
}

/**
 * Maps a wall time to the instant it fires at. Candidates are `wall - offset` for the offsets in
 * force a day either side (and at those candidates, for zones that change twice in two days);
 * a candidate is real when the zone's offset at it is the one used.
 */
export function resolveWall(zone: IANAZone, wall: number): WallInstant {
  const early = offsetAt(zone, wall - DAY_MS);
  const late = offsetAt(zone, wall + DAY_MS);
  // Fast path, nearly every day of the year: no change nearby (offset calls cost ~5 us each).
  if (early === late && offsetAt(zone, wall - early * MINUTE_MS) === early) {
    return { instant: wall - early * MINUTE_MS, kind: 'normal' };
  }
  const offsets = new Set([early, late]);
  for (const o of [...offsets]) offsets.add(offsetAt(zone, wall - o * MINUTE_MS));
  const valid = [...offsets]
    .map((o) => wall - o * MINUTE_MS)
    .filter((t) => wallOf(zone, t) === wall)
    .sort((a, b) => a - b);

  const first = valid[0];
  const last = valid[valid.length - 1];
  if (first !== undefined && last !== undefined) {
    if (first === last) return { instant: first, kind: 'normal' };
    // The first occurrence wins; the repeated range ends where the earlier offset stops.
    const before = offsetAt(zone, first);
    const transition = firstInstant(first, last, (t) => offsetAt(zone, t) !== before);
    return { instant: first, kind: 'repeated', resumeWall: transition + before * MINUTE_MS };
  }

  // No instant has this wall time: the clocks jumped over it. Fire when the jump happens, the
  // first instant whose wall time is past this one.
  const sorted = [...offsets].sort((a, b) => a - b);
  const lo = wall - (sorted[sorted.length - 1] ?? 0) * MINUTE_MS;
  const hi = wall - (sorted[0] ?? 0) * MINUTE_MS;
  const gapEnd = firstInstant(lo, hi, (t) => wallOf(zone, t) > wall);
  return { instant: gapEnd, kind: 'gap', resumeWall: wallOf(zone, gapEnd) };
}

/** Smallest t in (lo, hi] with pred(t), given pred(lo) is false and pred(hi) is true (binary search, ms resolution). */
function firstInstant(lo: number, hi: number, pred: (t: number) => boolean): number {
  let a = lo;
  let b = hi;
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (pred(mid)) b = mid;
    else a = mid;
  }
  return b;
}
