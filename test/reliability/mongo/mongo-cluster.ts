/**
 * The parent's side of the MongoDB mode: a fresh database per scenario, an admin scheduler that
 * only writes (never started), forked worker processes (mongo-worker.ts) and the reads the
 * checks need. Nothing here imitates MongoDB: without a replica set the mode is skipped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { createScheduler, type RunRecord, type Scheduler } from 'punctual';
import { mongoStore } from 'punctual/mongodb';
import { TASK, TASK_V2, taskSchemas } from '../tasks.js';
import type { MongoParentMessage, MongoWorkerConfig, MongoWorkerMessage } from './mongo-worker.js';

const WORKER = fileURLToPath(new URL('./mongo-worker.ts', import.meta.url));

/** Why the MongoDB mode cannot run against `uri` (no URI, not a replica set), or null when it can. */
export async function whyNoReplicaSet(uri: string | undefined): Promise<string | null> {
  if (!uri) return 'MONGODB_URI is not set';
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    return typeof hello.setName === 'string' ? null : 'MONGODB_URI does not name a replica set member (no setName in hello)';
  } catch (error) {
    return `cannot reach MONGODB_URI (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.close();
  }
}

export class MongoWorker {
  readonly process: ChildProcess;
  instanceId = '';
  pid = 0;
  private readonly inbox: MongoWorkerMessage[] = [];
  private readonly waiting: ((message: MongoWorkerMessage) => void)[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly config: MongoWorkerConfig) {
    this.process = fork(WORKER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (message: MongoWorkerMessage) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get name(): string {
    return `m${this.config.index}`;
  }

  send(message: MongoParentMessage): void {
    if (this.process.connected) this.process.send(message);
  }

  next(): Promise<MongoWorkerMessage> {
    const queued = this.inbox.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => this.waiting.push(resolve));
  }

  async start(): Promise<void> {
    this.send({ type: 'start' });
    const message = await this.next();
    if (message.type !== 'started') throw new Error(`${this.name} answered ${message.type} to start`);
    this.instanceId = message.instanceId;
    this.pid = message.pid;
  }

  async stop(): Promise<Record<string, number>> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return {};
    this.send({ type: 'stop' });
    const message = await Promise.race([this.next(), delay(30_000).then(() => null)]);
    return message?.type === 'stopped' ? message.errors : {};
  }
}

export interface Observation {
  runId: string;
  attempt: number;
  pid: number;
  instance: string;
}

/** One scenario's database, admin scheduler and workers. */
export class MongoCluster {
  readonly admin: Scheduler<typeof taskSchemas>;
  readonly workers: MongoWorker[];

  private constructor(
    readonly client: MongoClient,
    readonly db: Db,
    workerConfig: Omit<MongoWorkerConfig, 'index'>,
    processes: number,
  ) {
    this.admin = createScheduler({ store: mongoStore(db), metricsIntervalMs: 0, misfire: 'all', handlers: { [TASK]: { schema: taskSchemas[TASK], run: async () => undefined }, [TASK_V2]: { schema: taskSchemas[TASK_V2], run: async () => undefined } } });
    this.workers = Array.from({ length: processes }, (_, index) => new MongoWorker({ ...workerConfig, index }));
  }

  static async create(uri: string, settings: { leaseMs: number; pollIntervalMs: number; processes: number }): Promise<MongoCluster> {
    const client = new MongoClient(uri);
    await client.connect();
    const dbName = `punctual_rel_${randomBytes(4).toString('hex')}`;
    const cluster = new MongoCluster(client, client.db(dbName), { uri, dbName, leaseMs: settings.leaseMs, pollIntervalMs: settings.pollIntervalMs }, settings.processes);
    await mongoStore(cluster.db).init();
    return cluster;
  }

  async runs(): Promise<RunRecord[]> {
    const docs = await this.db.collection('punctual_runs').find().toArray();
    return docs.map(({ _id, ...rest }) => ({ id: String(_id), ...rest }) as unknown as RunRecord);
  }

  async observations(): Promise<Observation[]> {
    return (await this.db.collection('observed').find().toArray()) as unknown as Observation[];
  }

  /** Polls `check` every 250 ms until it holds or `timeoutMs` passes. */
  async until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return true;
      if (Date.now() > deadline) return false;
      await delay(250);
    }
  }

  /** Stops every worker still alive, drops the database and closes the client. */
  async close(): Promise<Record<string, number>[]> {
    const errors = await Promise.all(this.workers.map((w) => w.stop()));
    await this.db.dropDatabase().catch(() => undefined);
    await this.client.close();
    return errors;
  }
}
