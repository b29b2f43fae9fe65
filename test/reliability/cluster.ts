/**
 * The parent's side of the worker processes: fork them (`node --import tsx worker.ts`, one OS
 * process each), send them messages, wait for their answers, kill them, and collect how they
 * ended. A worker that exits when it was not told to, or with a non-zero code, is a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HealthTransition, ParentMessage, WorkerConfig, WorkerMessage, WorkerSummary } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** One forked scheduler process and everything it reported. */
export class Worker {
  readonly process: ChildProcess;
  pid = 0;
  instanceId = '';
  startedAt = 0;
  readonly health: HealthTransition[] = [];
  readonly redisEvents: { event: 'ready' | 'end'; at: number }[] = [];
  readonly problems: string[] = [];
  summary: WorkerSummary | null = null;
  exit: Exit | null = null;
  /** Set before a deliberate kill, so its exit is not counted as a crash. */
  killed = false;
  private readonly waiters: { match: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }[] = [];
  private readonly exited: Promise<Exit>;

  constructor(readonly config: WorkerConfig) {
    this.process = fork(WORKER, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.process.on('message', (message: WorkerMessage) => this.receive(message));
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve(this.exit);
        for (const waiter of this.waiters.splice(0)) waiter.resolve({ type: 'problem', message: `exited (${code ?? signal})` });
      });
    });
  }

  get name(): string {
    return `w${this.config.index}`;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  send(message: ParentMessage): void {
    if (this.process.connected) this.process.send(message);
  }

  /** The next message of `type` (or a `problem` when the process dies first), within `ms`. */
  async next<T extends WorkerMessage['type']>(type: T, ms = 30_000): Promise<Extract<WorkerMessage, { type: T }>> {
    if (!this.alive) throw new Error(`${this.name} exited before sending "${type}"`);
    const message = await within(
      new Promise<WorkerMessage>((resolve) => this.waiters.push({ match: (m) => m.type === type, resolve })),
      ms,
      `${this.name}: "${type}"`,
    );
    if (message.type !== type) throw new Error(`${this.name} ${message.type === 'problem' ? message.message : message.type} before sending "${type}"`);
    return message as Extract<WorkerMessage, { type: T }>;
  }

  async start(): Promise<void> {
    const started = this.next('started');
    this.send({ type: 'start' });
    const message = await started;
    this.instanceId = message.instanceId;
    this.startedAt = message.at;
  }

  /** Asks the worker to stop and waits for it to exit by itself; a worker still there after `ms` is a hang. */
  async stop(ms = 30_000): Promise<Exit | 'hang'> {
    if (!this.alive) return this.exit as Exit;
    this.send({ type: 'stop' });
    try {
      return await within(this.exited, ms, `${this.name} exit`);
    } catch {
      await this.kill();
      return 'hang';
    }
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<Exit> {
    this.killed = true;
    if (this.alive) this.process.kill('SIGKILL');
    return this.exited;
  }

  private receive(message: WorkerMessage): void {
    if (message.type === 'health') this.health.push(message.transition);
    else if (message.type === 'redis') this.redisEvents.push({ event: message.event, at: message.at });
    else if (message.type === 'summary') this.summary = message.summary;
    else if (message.type === 'problem') this.problems.push(message.message);
    else if (message.type === 'ready') this.pid = message.pid;
    const i = this.waiters.findIndex((w) => w.match(message));
    if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(message);
  }
}

/** Forks `count` workers and waits until each has loaded (not started). */
export async function forkWorkers(configs: WorkerConfig[]): Promise<Worker[]> {
  const workers = configs.map((config) => new Worker(config));
  try {
    await Promise.all(workers.map((w) => w.next('ready', 60_000)));
  } catch (error) {
    await Promise.all(workers.map((w) => w.kill()));
    throw error;
  }
  return workers;
}

/**
 * Stops every live worker and returns what went wrong: crashes (an exit nobody asked for, or a
 * non-zero code), hangs (no exit after stop), problems they reported.
 */
export async function stopWorkers(workers: Worker[]): Promise<string[]> {
  const violations: string[] = [];
  for (const w of workers) {
    if (!w.alive && !w.killed) violations.push(`${w.name} (pid ${w.pid}) crashed before the end: exit ${w.exit?.code ?? w.exit?.signal}`);
  }
  const results = await Promise.all(workers.map(async (w) => ({ w, result: w.killed || !w.alive ? null : await w.stop() })));
  for (const { w, result } of results) {
    if (result === 'hang') violations.push(`${w.name} (pid ${w.pid}) did not exit within 30 s of stop() (hang)`);
    else if (result && (result.code !== 0 || result.signal)) violations.push(`${w.name} (pid ${w.pid}) exited with ${result.code ?? result.signal} after stop()`);
    for (const problem of w.problems) violations.push(`${w.name}: ${problem}`);
  }
  return violations;
}

/** Kills whatever is still running (cleanup after a failure). */
export async function killWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.filter((w) => w.alive).map((w) => w.kill()));
}

/** Resolves with `promise`, or rejects after `ms` with `what` in the message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
