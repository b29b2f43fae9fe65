/**
 * A schedule in words, for people: "at 09:00 on Monday to Friday, Europe/Paris". Common cron
 * shapes get a sentence; anything else is shown as its expression with its zone.
 */
import type { Schedule } from '../types.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const UNITS: [ms: number, singular: string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
];

export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'cron':
      return `${describeCron(schedule.expression) ?? `cron "${schedule.expression}"`}, ${schedule.timezone}`;
    case 'interval':
      return `every ${describeDuration(schedule.everyMs)}`;
    case 'once':
      return `once, at ${schedule.at}`;
    case 'manual':
      return 'only when run by hand';
    case 'event':
      return `when the event "${schedule.event}" is published${schedule.filter ? ' (filtered)' : ''}${schedule.debounceMs ? `, debounced ${describeDuration(schedule.debounceMs)}` : ''}`;
  }
}

export function describeDuration(ms: number): string {
  for (const [unit, name] of UNITS) {
    if (ms % unit === 0) {
      const n = ms / unit;
      return n === 1 ? `${name}` : `${n} ${name}s`;
    }
  }
  return `${ms} ms`;
}

/** Parses a cron field of plain numbers, ranges and lists; null for steps or names. */
function numbers(field: string): number[] | null {
  if (field === '*') return null;
  const out: number[] = [];
  for (const part of field.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) return null;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from || to - from > 60) return null;
    for (let n = from; n <= to; n++) out.push(n);
  }
  return out;
}

/** "Monday to Friday", "Monday, Wednesday and Friday". */
function listWords(values: number[], names: string[]): string {
  const words = values.map((v) => names[v % names.length]!);
  const consecutive = values.length > 2 && values.every((v, i) => i === 0 || v === values[i - 1]! + 1);
  if (consecutive) return `${words[0]} to ${words[words.length - 1]}`;
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function describeCron(expression: string): string | null {
  const fields = expression.trim().split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== '0') return null;
    fields.shift();
  }
  if (fields.length !== 5) return null;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  const time = describeTime(minute, hour);
  if (time === null) return null;
  const parts = [time];
  if (dayOfMonth !== '*') {
    const days = numbers(dayOfMonth);
    if (!days) return null;
    parts.push(`on day ${listWords(days, Array.from({ length: 32 }, (_, i) => String(i)))} of the month`);
  }
  if (month !== '*') {
    const months = numbers(month);
    if (!months) return null;
    parts.push(`in ${listWords(months.map((m) => m - 1), MONTHS)}`);
  }
  if (dayOfWeek !== '*') {
    const days = numbers(dayOfWeek);
    if (!days) return null;
    parts.push(`on ${listWords(days, DAYS)}`);
  }
  return parts.join(' ');
}

function describeTime(minute: string, hour: string): string | null {
  const step = /^\*\/(\d+)$/.exec(minute);
  if (step && hour === '*') return `every ${step[1]} minutes`;
  if (minute === '*' && hour === '*') return 'every minute';
  const minutes = numbers(minute);
  if (!minutes) return null;
  if (hour === '*') return `at minute ${minutes.join(', ')} of every hour`;
  const hours = numbers(hour);
  if (!hours || hours.length * minutes.length > 6) return null;
  const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
  return `at ${times.length === 1 ? times[0] : `${times.slice(0, -1).join(', ')} and ${times[times.length - 1]}`}`;
}
