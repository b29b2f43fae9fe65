/** Scale scenario: each stored trigger (or future job) comes due once per 100 minutes, so 1 % per minute. */
export const SCALE_PERIOD_MS = 100 * 60_000;

/** A six-field cron expression (UTC) that fires once a day at the second of `epochMs`. */
export function cronAtSecond(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

/** Triggers each system creates per second in the fan-out setup (measured on a busy 2-core machine, rounded down), to pick a due second after they all exist. */
const CREATE_RATE: Record<string, number> = {
  'punctual-memory': 6_000,
  'punctual-postgres': 1_200,
  bullmq: 3_000,
  'agenda-postgres': 600,
  'agenda-mongo': 600,
};

/** How far ahead the fan-out's due second is set: the estimated creation time, half again, plus `marginMs`. */
export function fanoutLeadMs(system: string, triggers: number, marginMs: number): number {
  return Math.ceil((triggers / (CREATE_RATE[system] ?? 1_000)) * 1.5 * 1000) + marginMs;
}

/** Rows or jobs per second each system stores while seeding the scale scenario (measured on a busy 2-core machine, rounded down). */
const SEED_RATE: Record<string, number> = {
  'punctual-memory': 60_000,
  'punctual-postgres': 8_000,
  bullmq: 20_000,
  'graphile-worker': 40_000,
  'pg-boss': 30_000,
  'agenda-postgres': 8_000,
};

/** The instant of the first stored trigger (or job) of the scale scenario: when seeding `count` should have ended, plus `marginMs`. */
export function scaleFirstDue(system: string, count: number, marginMs: number): number {
  return Math.ceil(Date.now() / 1000) * 1000 + Math.ceil((count / (SEED_RATE[system] ?? 5_000)) * 1.3 * 1000) + marginMs;
}
