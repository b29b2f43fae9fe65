/**
 * The parent's side of test/support/dedicated-worker.ts: spawns it (no IPC channel, so nothing
 * but the scheduler can keep it alive), reads its JSON lines, waits for them, signals it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./dedicated-worker.ts', import.meta.url));

/** Resolves with `promise`, or rejects after `ms` of real time with `what` in the message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Line {
  type: string;
  status?: string;
  scheduledFor?: number;
  runId?: string;
  at: number;
}

/** One dedicated worker process and what it printed. */
export class DedicatedWorker {
  readonly lines: Line[] = [];
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private readonly waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  private readonly child: ChildProcess;

  constructor(url: string, schema: string, keepAlive: boolean) {
    this.child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, DATABASE_URL: url, SCHEMA: schema, KEEP_ALIVE: String(keepAlive) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      this.lines.push(line);
      for (const waiter of this.waiters.filter((w) => w.match(line))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    });
    this.pid = this.child.pid ?? 0;
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line matching `match` (already printed or to come); a real-time safety net only. */
  next(match: (line: Line) => boolean, what: string): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return within(new Promise<Line>((resolve) => this.waiters.push({ match, resolve })), 60_000, what);
  }

  terminate(): void {
    this.child.kill('SIGTERM');
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}
