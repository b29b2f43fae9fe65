/** Dates in UTC, durations in words: the same on every screen and in every screenshot. */

export function when(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** `2026-12-04T10:00` for a datetime-local input, in UTC. */
export function toInput(date: Date): string {
  return date.toISOString().slice(0, 16);
}

/** A datetime-local value read as UTC, as ISO-8601. */
export function fromInput(value: string): string | undefined {
  return value ? new Date(`${value}:00Z`).toISOString() : undefined;
}
