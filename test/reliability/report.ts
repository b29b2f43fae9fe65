/** Printing the figures: one block per scenario, then the summary table. */
import type { Figures, ScenarioResult } from './harness.js';

const COLUMNS: [keyof Figures, string][] = [
  ['slots', 'slots'],
  ['manual', 'manual'],
  ['runs', 'runs'],
  ['executions', 'executions'],
  ['duplicates', 'dupl.'],
  ['lost', 'lost'],
  ['takeovers', 'takeovers'],
  ['retries', 'retries'],
  ['skipped', 'skipped'],
  ['recoveryMs', 'recovery ms'],
  ['outageMs', 'outage ms'],
  ['catchUpMs', 'catch-up ms'],
  ['throughput', 'runs/s'],
];

const verdict = (r: ScenarioResult): string => (r.skipped ? 'SKIP' : r.violations.length === 0 ? 'PASS' : `FAIL (${r.violations.length})`);

export function printScenario(result: ScenarioResult): void {
  if (result.skipped) {
    console.log(`\n${result.name}: SKIP: ${result.skipped}`);
    return;
  }
  const width = Math.max(...result.details.map(([label]) => label.length), 10);
  console.log(`\n${result.name}: ${result.violations.length === 0 ? 'PASS' : 'FAIL'} in ${(result.durationMs / 1_000).toFixed(1)} s`);
  const figures = COLUMNS.filter(([key]) => result.figures[key] !== undefined).map(([key, label]) => `${label} ${result.figures[key]}`);
  if (figures.length > 0) console.log(`  ${figures.join(' | ')}`);
  for (const [label, value] of result.details) console.log(`  ${label.padEnd(width)}  ${value}`);
  for (const note of result.notes) console.log(`  NOTE: ${note}`);
  for (const violation of result.violations) console.log(`  VIOLATION: ${violation}`);
}

export function printTable(results: ScenarioResult[], setting: string): void {
  const header = ['scenario', ...COLUMNS.map(([, label]) => label), 'time s', 'result'];
  const rows = results.map((r) => [
    r.name,
    ...COLUMNS.map(([key]) => (r.figures[key] === undefined ? '-' : String(r.figures[key]))),
    (r.durationMs / 1_000).toFixed(0),
    verdict(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(`\nReliability suite, ${setting} setting:\n`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`);
  for (const row of rows) console.log(line(row));
}
