/**
 * Runs the benchmark: every scenario on punctual (memory and PostgreSQL stores) and on the
 * peers, each system with its defaults and its best documented tuning, each repetition in a
 * fresh child process. Prints progress, then writes a markdown report to bench/results/.
 *
 *   npm run bench                      # everything, 3 repetitions (about an hour)
 *   npm run bench -- --quick           # small sizes, one repetition (under 2 minutes)
 *   npm run bench -- --only throughput --systems punctual-postgres,graphile-worker --reps 5
 *   npm run bench -- --only fanout --systems punctual-memory --profile --trace-gc   # CPU profile + GC log per repetition
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPunctual } from './lib/build.js';
import { captureStdout, collectProfile, DEFAULT_DIAGNOSTICS_DIR, diagnosticArgs, diagnostics, gcHeadline, summarizeGc, withDefaultDirs } from './lib/diagnostics.js';
import { FULL, QUICK } from './lib/params.js';
import { machine, renderReport, type Cell } from './lib/report.js';
import { ensureDatabase, serverVersions } from './lib/services.js';
import { SCENARIOS, type ChildMessage, type ChildSpec, type Outcome, type ScenarioId, type Setting } from './lib/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

const ALL_SYSTEMS = ['punctual-memory', 'punctual-postgres', 'bullmq', 'graphile-worker', 'pg-boss', 'agenda-postgres', 'agenda-mongo'] as const;

const { values } = parseArgs({
  args: withDefaultDirs(process.argv.slice(2), ['--profile', '--trace-gc']),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    systems: { type: 'string' },
    settings: { type: 'string' },
    reps: { type: 'string' },
    out: { type: 'string' },
    'punctual-src': { type: 'string' },
    profile: { type: 'string' },
    'trace-gc': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(',')}] [--systems ${ALL_SYSTEMS.join(',')}]
                        [--settings default,tuned] [--reps N] [--out file.md] [--punctual-src DIR]
                        [--profile [DIR]] [--trace-gc [DIR]]
  --punctual-src DIR  measure punctual built from DIR/src (another checkout or version), to compare two versions
  --profile [DIR]     write a V8 CPU profile per repetition to DIR/<system>-<scenario>-<setting>-rep<N>.cpuprofile
                      (default DIR: ${DEFAULT_DIAGNOSTICS_DIR}); open it in Chrome DevTools or speedscope
  --trace-gc [DIR]    run each repetition with --trace-gc, its log in DIR/<...>.gc.log, GC totals printed per repetition`);
  process.exit(0);
}

const list = (value: string | undefined, all: readonly string[], what: string): string[] => {
  if (!value) return [...all];
  const chosen = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = chosen.filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new Error(`unknown ${what}: ${unknown.join(', ')}; valid: ${all.join(', ')}`);
  return chosen;
};

const scenarios = list(values.only, SCENARIOS, 'scenario') as ScenarioId[];
const settings = list(values.settings ?? (values.quick ? 'tuned' : undefined), ['default', 'tuned'], 'setting') as Setting[];
const params = values.quick ? QUICK : FULL;
const diag = diagnostics(values.profile, values['trace-gc'], root);
const reps = values.reps ? Number(values.reps) : values.quick ? 1 : 3;
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');

/** Systems whose servers answer; the others are reported as not run, with the reason. */
async function availableSystems(): Promise<{ systems: string[]; skipped: Record<string, string> }> {
  const requested = list(values.systems, ALL_SYSTEMS, 'system');
  const skipped: Record<string, string> = {};
  // The database first: on a fresh server it does not exist yet, and the version is read from it.
  try {
    await ensureDatabase();
  } catch (error) {
    console.error(`PostgreSQL: ${(error as Error).message}`);
  }
  const versions = await serverVersions();
  const postgres = versions.postgres !== null;
  const systems = requested.filter((system) => {
    const needsPg = ['punctual-postgres', 'graphile-worker', 'pg-boss', 'agenda-postgres'].includes(system);
    if (needsPg && !postgres) skipped[system] = 'PostgreSQL not reachable (BENCH_DATABASE_URL)';
    else if (system === 'bullmq' && versions.redis === null) skipped[system] = 'Redis not reachable (BENCH_REDIS_URL)';
    else if (system === 'agenda-mongo' && !process.env.MONGODB_URI) skipped[system] = 'runs only when MONGODB_URI is set';
    else return true;
    return false;
  });
  return { systems, skipped };
}

/** Runs one repetition in a fresh process; resolves with its outcome, a skip reason, or an error. */
function runChild(spec: ChildSpec, timeoutMs: number, onProgress: (text: string) => void): Promise<Outcome | { skip: string } | { error: string }> {
  return new Promise((resolve) => {
    const child = fork(join(here, 'lib', 'child.ts'), [JSON.stringify(spec)], {
      cwd: root,
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=4096', ...diagnosticArgs(diag, spec)],
      env: { ...process.env, TSX_TSCONFIG_PATH: join(here, 'tsconfig.json') },
      stdio: ['ignore', diag.gcDir ? 'pipe' : 'inherit', 'pipe', 'ipc'],
    });
    const gcLog = captureStdout(diag, spec, child.stdout);
    let settled: Outcome | { skip: string } | { error: string } | null = null;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    const timer = setTimeout(() => {
      settled ??= { error: `timed out after ${Math.round(timeoutMs / 1000)} s` };
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'progress') onProgress(message.text);
      else if (message.type === 'result') settled = message.outcome;
      else if (message.type === 'skip') settled = { skip: message.reason };
      else settled = { error: message.message };
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const result = settled ?? { error: `exited with code ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}` };
      const profile = collectProfile(diag, spec);
      if (profile) onProgress(`CPU profile: ${profile}`);
      if (!gcLog) return resolve(result);
      void gcLog.then((path) => {
        onProgress(`${gcHeadline(summarizeGc(path))} (whole process; ${path})`);
        resolve(result);
      });
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const before = machine();
  const { systems, skipped } = await availableSystems();
  const versions = await serverVersions();
  if (systems.some((s) => s.startsWith('punctual-'))) {
    if (values['punctual-src']) {
      const dir = join(root, 'node_modules', '.cache', 'punctual-bench-other');
      await buildPunctual(values['punctual-src'], dir);
      process.env.BENCH_PUNCTUAL_BUILD = dir;
      console.log(`punctual built from ${values['punctual-src']}/src`);
    } else await buildPunctual();
  }
  const plan: ChildSpec[] = [];
  for (const scenario of scenarios) {
    // Seeding a million triggers per repetition is the slow part of a run: scale runs the tuned
    // setting only, unless --settings asks otherwise.
    const scenarioSettings = scenario === 'scale' && !values.settings && settings.includes('tuned') ? (['tuned'] as Setting[]) : settings;
    for (const system of systems) {
      for (const setting of scenarioSettings) {
        for (let rep = 0; rep < reps; rep++) plan.push({ system, scenario, setting, rep, params: params[scenario] });
      }
    }
  }
  console.log(`punctual bench${values.quick ? ' --quick' : ''}: ${plan.length} runs (${scenarios.join(', ')}) on ${systems.join(', ')}; ${reps} repetition(s)`);
  console.log(`machine: ${before.cores} cores, ${before.memoryGb} GB, Node ${process.versions.node}, PostgreSQL ${versions.postgres ?? '-'}, Redis ${versions.redis ?? '-'}, load ${before.load}`);
  for (const [system, reason] of Object.entries(skipped)) console.log(`skipping ${system}: ${reason}`);
  if (diag.profileDir) console.log(`CPU profiles: ${diag.profileDir}/<system-scenario-setting-repN>.cpuprofile`);
  if (diag.gcDir) console.log(`GC traces: ${diag.gcDir}/<system-scenario-setting-repN>.gc.log`);

  const cells = new Map<string, Cell>();
  /** The 1-minute load average before each repetition: how busy the shared machine was. */
  const loads: number[] = [];
  for (const [index, spec] of plan.entries()) {
    const key = `${spec.scenario}|${spec.system}|${spec.setting}`;
    const cell = cells.get(key) ?? { scenario: spec.scenario, system: spec.system, setting: spec.setting, outcomes: [], notes: [], skip: null, errors: [], retried: [] };
    cells.set(key, cell);
    if (cell.skip) continue;
    loads.push(loadavg()[0] ?? 0);
    const label = `[${index + 1}/${plan.length}] ${spec.scenario} · ${spec.system} · ${spec.setting} · rep ${spec.rep + 1}/${reps}`;
    process.stdout.write(`${label} ...\n`);
    const t0 = Date.now();
    const timeoutMs = timeoutFor(spec.scenario);
    let result = await runChild(spec, timeoutMs, (text) => process.stdout.write(`    ${text}\n`));
    // A server restarted under us (the machine is shared) should not cost the figure: retry.
    for (let retry = 1; retry <= RETRIES && 'error' in result; retry++) {
      cell.retried.push(result.error.split('\n')[0] ?? '');
      console.log(`    failed (${result.error.split('\n')[0]}); retry ${retry}/${RETRIES} in 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      result = await runChild(spec, timeoutMs, (text) => process.stdout.write(`    ${text}\n`));
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if ('skip' in result) {
      cell.skip = result.skip;
      console.log(`    not applicable: ${result.skip}`);
    } else if ('error' in result) {
      cell.errors.push(result.error);
      console.log(`    failed after ${secs} s: ${result.error.split('\n')[0]}`);
    } else {
      cell.outcomes.push(result);
      for (const note of result.notes ?? []) if (!cell.notes.includes(note)) cell.notes.push(note);
      console.log(`    ${headline(spec.scenario, result)} (${secs} s)`);
    }
  }

  const after = machine();
  const report = renderReport({
    quick: values.quick,
    reps,
    params,
    cells: [...cells.values()],
    skipped,
    before,
    after,
    versions,
    durationMin: (Date.now() - started) / 60_000,
    loads,
    command: `npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join('')}`,
    punctualSource: values['punctual-src'] ?? null,
  });
  const date = new Date().toISOString().slice(0, 10);
  const out = values.out ?? join(here, 'results', `${date}${values.quick ? '-quick' : ''}.md`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
  writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify({ params, reps, before, after, loads, versions, cells: [...cells.values()] }, null, 2));
  console.log(`\n${report}\nwritten to ${out}`);
}

/** Attempts after a failed repetition (a server restarted under us, say) before giving up on it. */
const RETRIES = 2;

function timeoutFor(scenario: ScenarioId): number {
  const p = params[scenario];
  const extra = 'capMs' in p ? p.capMs : 0;
  return { throughput: 240_000, lateness: 180_000, fanout: 420_000, concurrency: 240_000, scale: 900_000, delayed: 180_000 }[scenario] + extra;
}

function headline(scenario: ScenarioId, outcome: Outcome): string {
  const f = outcome.figures;
  const n = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '-' : v.toLocaleString('en-US', { maximumFractionDigits: digits }));
  switch (scenario) {
    case 'throughput':
      return `${n(f.jobsPerSec)} jobs/s (${n(f.completed)} done)`;
    case 'lateness':
      return `p50 ${n(f.p50Ms, 1)} ms, p99 ${n(f.p99Ms, 1)} ms, max ${n(f.maxMs, 1)} ms; cron p99 ${n(f.cronP99Ms, 1)} ms (${n(f.started)}/${n(f.expected)} started)`;
    case 'delayed':
      return `p50 ${n(f.p50Ms, 1)} ms, p99 ${n(f.p99Ms, 1)} ms, max ${n(f.maxMs, 1)} ms (${n(f.started)}/${n(f.expected)} started)`;
    case 'fanout':
      return `last start ${n(f.lastStartMs)} ms after the due second, p99 ${n(f.p99Ms)} ms (${n(f.started)}/${n(f.expected)} started)`;
    case 'concurrency':
      return `all started in ${n(f.allStartedMs)} ms, loop lag p99 ${n(f.lagP99Ms, 1)} ms, peak RSS ${n(f.peakRssMb)} MB`;
    case 'scale':
      return `RSS ${n(f.rssMb)} MB, store p99 ${n(f.storeP99Ms, 1)} ms, ${n(f.fired)} fired`;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
