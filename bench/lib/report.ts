import { cpus, loadavg, totalmem } from 'node:os';
import { SETTINGS_TEXT } from './settings.js';
import { summarize } from './stats.js';
import type { Outcome, ScenarioId, ScenarioParams, Setting } from './types.js';

/** Every repetition of one scenario on one system and setting. */
export interface Cell {
  scenario: ScenarioId;
  system: string;
  setting: Setting;
  outcomes: Outcome[];
  notes: string[];
  skip: string | null;
  errors: string[];
  /** Errors of attempts that were retried (the retry's figure counts). */
  retried: string[];
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  load: string;
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.versions.node,
    load: loadavg().map((l) => l.toFixed(2)).join(' / '),
  };
}

interface Column {
  figure: string;
  title: string;
  digits: number;
}

interface Table {
  title: (p: ScenarioParams) => string;
  columns: Column[];
  /** The figure the ratio column compares, and whether higher is better. */
  headline: { figure: string; higherIsBetter: boolean };
}

const TABLES: Record<ScenarioId, Table> = {
  throughput: {
    title: (p) =>
      `1. Throughput: ${fmt(p.throughput.jobs)} immediate jobs enqueued before the worker starts, concurrency ${p.throughput.concurrency}, no-op handlers (capped at ${p.throughput.capMs / 1000} s)`,
    columns: [
      { figure: 'jobsPerSec', title: 'jobs/s', digits: 0 },
      { figure: 'completed', title: 'jobs run', digits: 0 },
      { figure: 'enqueuePerSec', title: 'enqueue jobs/s', digits: 0 },
    ],
    headline: { figure: 'jobsPerSec', higherIsBetter: true },
  },
  lateness: {
    title: (p) =>
      `2. Dispatch lateness: ${fmt(p.lateness.jobs)} delayed jobs due at distinct instants over ${p.lateness.spanMs / 1000} s, worker idle; plus ${p.lateness.cronTriggers} every-second cron triggers over the same span (handler start minus due time)`,
    columns: [
      { figure: 'p50Ms', title: 'p50 ms', digits: 1 },
      { figure: 'p95Ms', title: 'p95 ms', digits: 1 },
      { figure: 'p99Ms', title: 'p99 ms', digits: 1 },
      { figure: 'maxMs', title: 'max ms', digits: 1 },
      { figure: 'cronP50Ms', title: 'cron p50 ms', digits: 1 },
      { figure: 'cronP99Ms', title: 'cron p99 ms', digits: 1 },
      { figure: 'cronMaxMs', title: 'cron max ms', digits: 1 },
    ],
    headline: { figure: 'p99Ms', higherIsBetter: false },
  },
  fanout: {
    title: (p) =>
      `3. Cron fan-out: ${fmt(p.fanout.triggers)} cron triggers due in the same second (${fmt(p.fanout.memoryTriggers)} on punctual's memory store), concurrency ${p.fanout.concurrency}: time from the due second to each handler start`,
    columns: [
      { figure: 'lastStartMs', title: 'last start ms', digits: 0 },
      { figure: 'p50Ms', title: 'p50 ms', digits: 0 },
      { figure: 'p99Ms', title: 'p99 ms', digits: 0 },
      { figure: 'started', title: 'started', digits: 0 },
    ],
    headline: { figure: 'lastStartMs', higherIsBetter: false },
  },
  concurrency: {
    title: (p) =>
      `4. Concurrency: ${fmt(p.concurrency.runs)} runs due at once whose handlers each wait ${p.concurrency.waitMs / 1000} s, one instance with concurrency ${fmt(p.concurrency.runs)}`,
    columns: [
      { figure: 'allStartedMs', title: 'all started ms', digits: 0 },
      { figure: 'lagP99Ms', title: 'loop lag p99 ms', digits: 1 },
      { figure: 'lagMaxMs', title: 'loop lag max ms', digits: 1 },
      { figure: 'peakRssMb', title: 'peak RSS MB', digits: 0 },
    ],
    headline: { figure: 'allStartedMs', higherIsBetter: false },
  },
  scale: {
    title: (p) =>
      `5. Scale: ${fmt(p.scale.triggers)} stored triggers (future jobs for the queues), 1 % due per minute, one instance measured for ${p.scale.measureMs / 1000} s`,
    columns: [
      { figure: 'rssMb', title: 'RSS MB', digits: 0 },
      { figure: 'peakRssMb', title: 'peak RSS MB', digits: 0 },
      { figure: 'storeP99Ms', title: 'store query p99 ms', digits: 1 },
      { figure: 'storeMaxMs', title: 'store query max ms', digits: 1 },
      { figure: 'fired', title: 'jobs run', digits: 0 },
      { figure: 'lateP99Ms', title: 'lateness p99 ms', digits: 0 },
    ],
    headline: { figure: 'rssMb', higherIsBetter: false },
  },
  delayed: {
    title: (p) =>
      `6. Delayed one-off jobs: ${fmt(p.delayed.jobs)} jobs enqueued by task type with a run time (punctual \`enqueueMany\`, BullMQ \`delay\`, graphile-worker \`runAt\`, pg-boss \`startAfter\`, Agenda \`schedule\`), due at distinct instants over ${p.delayed.spanMs / 1000} s, worker idle (handler start minus due time)`,
    columns: [
      { figure: 'p50Ms', title: 'p50 ms', digits: 1 },
      { figure: 'p95Ms', title: 'p95 ms', digits: 1 },
      { figure: 'p99Ms', title: 'p99 ms', digits: 1 },
      { figure: 'maxMs', title: 'max ms', digits: 1 },
      { figure: 'enqueuePerSec', title: 'enqueue jobs/s', digits: 0 },
    ],
    headline: { figure: 'p99Ms', higherIsBetter: false },
  },
};

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** `median (min-max)` of a figure over the repetitions, or `-`. */
function cellText(cell: Cell, figure: string, digits: number): string {
  const s = summarize(cell.outcomes.map((o) => o.figures[figure] ?? null));
  if (!s) return '-';
  if (s.n === 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}-${fmt(s.max, digits)})`;
}

function median(cell: Cell | undefined, figure: string): number | null {
  return cell ? (summarize(cell.outcomes.map((o) => o.figures[figure] ?? null))?.median ?? null) : null;
}

export interface ReportInput {
  quick: boolean;
  reps: number;
  params: ScenarioParams;
  cells: Cell[];
  skipped: Record<string, string>;
  before: Machine;
  after: Machine;
  versions: { postgres: string | null; redis: string | null };
  durationMin: number;
  command: string;
  /** 1-minute load average sampled before each repetition. */
  loads: number[];
  /** `--punctual-src`: where punctual was built from, when not this checkout. */
  punctualSource: string | null;
}

export function renderReport(input: ReportInput): string {
  const { before, after, versions } = input;
  const lines: string[] = [];
  lines.push(`# punctual benchmark, ${new Date().toISOString().slice(0, 10)}${input.quick ? ' (--quick sizes)' : ''}`);
  lines.push('');
  lines.push(`- machine: ${before.cores} cores (${before.cpu}), ${before.memoryGb} GB; Node ${before.node}; PostgreSQL ${versions.postgres ?? 'n/a'}; Redis ${versions.redis ?? 'n/a'}; all on the same host`);
  const load = summarize(input.loads);
  const during = load ? `; 1-minute load before each repetition: median ${fmt(load.median, 2)}, ${fmt(load.min, 2)}-${fmt(load.max, 2)}` : '';
  lines.push(`- load average (1 / 5 / 15 min): ${before.load} before, ${after.load} after${during} (${before.cores} cores; other work shared the machine and the servers)`);
  lines.push(`- command: \`${input.command}\`; ${input.reps} repetition(s) per figure, each in a fresh process; a figure is the median, with (min-max) over repetitions; run took ${input.durationMin.toFixed(1)} min`);
  if (input.punctualSource) lines.push(`- punctual built from \`${input.punctualSource}/src\` (--punctual-src), not this checkout`);
  lines.push(`- ratio columns: punctual's figure divided by this row's, same setting (for times, below 1 means punctual is faster)`);
  lines.push('- handlers are no-op async functions (scenario 4: each waits); times are handler start minus due time, taken in the worker process');
  for (const [system, reason] of Object.entries(input.skipped)) lines.push(`- not run: ${system} (${reason})`);
  lines.push('');
  const scenarios = [...new Set(input.cells.map((c) => c.scenario))];
  for (const scenario of scenarios) {
    const table = TABLES[scenario];
    const cells = input.cells.filter((c) => c.scenario === scenario);
    const find = (system: string, setting: Setting) => cells.find((c) => c.system === system && c.setting === setting);
    lines.push(`## ${table.title(input.params)}`);
    lines.push('');
    const ratioTitles = ['punctual-postgres', 'punctual-memory'].filter((s) => cells.some((c) => c.system === s)).map((s) => `${s.replace('punctual-', 'punctual ')} ÷ this`);
    lines.push(`| system | setting | ${table.columns.map((c) => c.title).join(' | ')} | ${ratioTitles.join(' | ')} |`);
    lines.push(`|---|---|${table.columns.map(() => '---:').join('|')}|${ratioTitles.map(() => '---:').join('|')}|`);
    for (const cell of cells) {
      const figures = cell.skip
        ? table.columns.map((_, i) => (i === 0 ? `n/a: ${cell.skip}` : ''))
        : cell.outcomes.length === 0
          ? table.columns.map((_, i) => (i === 0 ? `failed: ${(cell.errors[0] ?? 'no result').split('\n')[0]?.slice(0, 120)}` : ''))
          : table.columns.map((c) => cellText(cell, c.figure, c.digits));
      const ratios = ['punctual-postgres', 'punctual-memory']
        .filter((s) => cells.some((c) => c.system === s))
        .map((s) => {
          const mine = median(find(s, cell.setting), table.headline.figure);
          const theirs = median(cell, table.headline.figure);
          if (mine === null || theirs === null || theirs === 0 || cell.system === s) return '';
          return `${fmt(mine / theirs, 2)}`;
        });
      lines.push(`| ${cell.system} | ${cell.setting} | ${figures.join(' | ')} | ${ratios.join(' | ')} |`);
    }
    const notes = cells.flatMap((c) => c.notes.map((n) => `${c.system} (${c.setting}): ${n}`));
    const errors = cells.flatMap((c) => [
      ...(c.outcomes.length > 0 && c.errors.length > 0 ? [`${c.system} (${c.setting}): ${c.errors.length} repetition(s) failed: ${c.errors[0]?.split('\n')[0]}`] : []),
      ...(c.retried.length > 0 ? [`${c.system} (${c.setting}): ${c.retried.length} attempt(s) retried after: ${c.retried[0]}`] : []),
    ]);
    if (notes.length + errors.length > 0) {
      lines.push('');
      for (const note of [...notes, ...errors]) lines.push(`- ${note}`);
    }
    lines.push('');
  }
  lines.push('## Settings');
  lines.push('');
  lines.push('| system | default | tuned |');
  lines.push('|---|---|---|');
  const systems = [...new Set(input.cells.map((c) => c.system))];
  for (const system of systems) {
    const text = SETTINGS_TEXT[system];
    if (text) lines.push(`| ${system} | ${text.default} | ${text.tuned} |`);
  }
  lines.push('');
  lines.push(...targets(input));
  return `${lines.join('\n')}\n`;
}

/** The targets, checked against this run (reported, never asserted). */
function targets(input: ReportInput): string[] {
  const m = (scenario: ScenarioId, system: string, setting: Setting, figure: string): number | null =>
    median(input.cells.find((c) => c.scenario === scenario && c.system === system && c.setting === setting), figure);
  const best = (scenario: ScenarioId, system: string, figure: string, higher: boolean): number | null => {
    const values = (['default', 'tuned'] as const).map((s) => m(scenario, system, s, figure)).filter((v): v is number => v !== null);
    if (values.length === 0) return null;
    return higher ? Math.max(...values) : Math.min(...values);
  };
  const rows: [string, number | null, number | null, (v: number, t: number) => boolean, string][] = [];
  const pgTp = best('throughput', 'punctual-postgres', 'jobsPerSec', true);
  const gwTp = m('throughput', 'graphile-worker', 'tuned', 'jobsPerSec');
  const bullTp = best('throughput', 'bullmq', 'jobsPerSec', true);
  rows.push(['throughput, PostgreSQL store >= 2x tuned graphile-worker (jobs/s)', pgTp, gwTp === null ? null : 2 * gwTp, (v, t) => v >= t, '>=']);
  rows.push(['throughput, PostgreSQL store > BullMQ (jobs/s)', pgTp, bullTp, (v, t) => v > t, '>']);
  rows.push(['throughput, memory store >= 200,000 jobs/s', best('throughput', 'punctual-memory', 'jobsPerSec', true), 200_000, (v, t) => v >= t, '>=']);
  rows.push(['dispatch lateness p99, PostgreSQL <= 10 ms', best('lateness', 'punctual-postgres', 'p99Ms', false), 10, (v, t) => v <= t, '<=']);
  rows.push(['dispatch lateness p99, memory <= 5 ms', best('lateness', 'punctual-memory', 'p99Ms', false), 5, (v, t) => v <= t, '<=']);
  rows.push(['cron lateness p99, PostgreSQL <= 10 ms', best('lateness', 'punctual-postgres', 'cronP99Ms', false), 10, (v, t) => v <= t, '<=']);
  rows.push(['cron lateness p99, memory <= 10 ms', best('lateness', 'punctual-memory', 'cronP99Ms', false), 10, (v, t) => v <= t, '<=']);
  rows.push([`fan-out, memory: ${fmt(input.params.fanout.memoryTriggers)} started within 2 s (ms)`, best('fanout', 'punctual-memory', 'lastStartMs', false), 2_000, (v, t) => v <= t, '<=']);
  rows.push([`fan-out, PostgreSQL: ${fmt(input.params.fanout.triggers)} started within 2 s (ms)`, best('fanout', 'punctual-postgres', 'lastStartMs', false), 2_000, (v, t) => v <= t, '<=']);
  rows.push(['concurrency: event-loop lag p99 < 50 ms (PostgreSQL)', best('concurrency', 'punctual-postgres', 'lagP99Ms', false), 50, (v, t) => v < t, '<']);
  rows.push(['concurrency: event-loop lag p99 < 50 ms (memory)', best('concurrency', 'punctual-memory', 'lagP99Ms', false), 50, (v, t) => v < t, '<']);
  rows.push([`scale: ${fmt(input.params.scale.triggers)} stored triggers, RSS < 200 MB (PostgreSQL store)`, best('scale', 'punctual-postgres', 'rssMb', false), 200, (v, t) => v < t, '<']);
  const out = ['## Targets (reported, never asserted)', '', '| target | measured | bound | |', '|---|---:|---:|---|'];
  for (const [name, value, bound, ok, op] of rows) {
    if (value === null || bound === null) continue;
    out.push(`| ${name} | ${fmt(value, value < 100 ? 1 : 0)} | ${op} ${fmt(bound, bound < 100 ? 1 : 0)} | ${ok(value, bound) ? 'met' : 'missed'} |`);
  }
  if (input.quick) out.push('', 'Quick sizes are smaller than the targets assume; judge the targets on a full run.');
  return out;
}
