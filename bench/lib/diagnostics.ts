/**
 * Optional V8 diagnostics for the benchmark's child processes: a CPU profile per repetition
 * (`--profile [dir]`) and a garbage-collection trace per repetition (`--trace-gc [dir]`), each
 * file named after the system, scenario, setting and repetition, so two versions can be compared
 * from the same run. Both are off by default: profiling costs a few percent of CPU.
 */
import { createWriteStream, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChildSpec } from './types.js';

/** Where `--profile` and `--trace-gc` write when given no directory. */
export const DEFAULT_DIAGNOSTICS_DIR = 'bench/profiles';

/** What the command line asked for: absolute directories, or null when off. */
export interface Diagnostics {
  profileDir: string | null;
  gcDir: string | null;
}

/**
 * `--profile` and `--trace-gc` take an optional directory (`util.parseArgs` has no optional
 * values): when the next argument is missing or is another option, the default is inserted.
 */
export function withDefaultDirs(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    out.push(arg);
    const next = args[i + 1];
    if (flags.includes(arg) && (next === undefined || next.startsWith('--'))) out.push(DEFAULT_DIAGNOSTICS_DIR);
  }
  return out;
}

export function diagnostics(profile: string | undefined, traceGc: string | undefined, cwd: string): Diagnostics {
  const dir = (value: string | undefined): string | null => {
    if (value === undefined) return null;
    const path = resolve(cwd, value);
    mkdirSync(path, { recursive: true });
    return path;
  };
  return { profileDir: dir(profile), gcDir: dir(traceGc) };
}

/** `punctual-memory-fanout-tuned-rep1`: one repetition's file name stem. */
export function runName(spec: ChildSpec): string {
  return `${spec.system}-${spec.scenario}-${spec.setting}-rep${spec.rep + 1}`;
}

/**
 * Where one repetition's profiles land first: the child has two threads (the main one and
 * tsx's module loader), each writing a profile under V8's default name on exit.
 */
function scratchDir(d: Diagnostics & { profileDir: string }, spec: ChildSpec): string {
  return join(d.profileDir, `.${runName(spec)}`);
}

/** The child's extra `execArgv`. */
export function diagnosticArgs(d: Diagnostics, spec: ChildSpec): string[] {
  const args: string[] = [];
  if (d.profileDir) args.push('--cpu-prof', `--cpu-prof-dir=${scratchDir({ ...d, profileDir: d.profileDir }, spec)}`);
  if (d.gcDir) args.push('--trace-gc');
  return args;
}

/**
 * After the child exited: keeps the main thread's profile (thread id 0 in V8's default name
 * `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile`) as `<dir>/<run>.cpuprofile`, drops the
 * loader thread's. Returns the path, or null when none was written (a killed child).
 */
export function collectProfile(d: Diagnostics, spec: ChildSpec): string | null {
  if (!d.profileDir) return null;
  const scratch = scratchDir({ ...d, profileDir: d.profileDir }, spec);
  let kept: string | null = null;
  try {
    const main = readdirSync(scratch).find((name) => name.split('.')[4] === '0');
    if (main) {
      kept = join(d.profileDir, `${runName(spec)}.cpuprofile`);
      renameSync(join(scratch, main), kept);
    }
  } catch {
    // No profile written.
  }
  rmSync(scratch, { recursive: true, force: true });
  return kept;
}

/**
 * With `--trace-gc`, the child's stdout (where V8 prints its trace; progress goes over IPC)
 * is written to `<dir>/<run>.gc.log`. Resolves with the log's path once it is complete.
 */
export function captureStdout(d: Diagnostics, spec: ChildSpec, stdout: Readable | null): Promise<string> | null {
  if (!d.gcDir || !stdout) return null;
  const path = join(d.gcDir, `${runName(spec)}.gc.log`);
  const file = createWriteStream(path);
  stdout.pipe(file);
  return new Promise((resolve) => file.on('close', () => resolve(path)));
}

/** Totals of one `--trace-gc` log: pauses by kind, in ms. */
export interface GcSummary {
  scavenges: number;
  scavengeMs: number;
  markCompacts: number;
  markCompactMs: number;
}

const GC_LINE = /\d+ ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\b[^,]*, ([\d.]+) \/ [\d.]+ ms/;

export function summarizeGc(path: string): GcSummary {
  const summary: GcSummary = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0 };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = GC_LINE.exec(line);
    if (!match) continue;
    const ms = Number(match[2]);
    if (match[1] === 'Scavenge' || match[1]?.startsWith('Minor')) {
      summary.scavenges++;
      summary.scavengeMs += ms;
    } else {
      summary.markCompacts++;
      summary.markCompactMs += ms;
    }
  }
  return summary;
}

export function gcHeadline(s: GcSummary): string {
  return `GC: ${s.scavenges} scavenges ${s.scavengeMs.toFixed(0)} ms, ${s.markCompacts} mark-compacts ${s.markCompactMs.toFixed(0)} ms`;
}
