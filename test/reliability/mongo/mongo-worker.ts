/**
 * One scheduler process of the reliability suite's MongoDB mode, forked by mongo-cluster.ts.
 * It runs a scheduler on the MongoDB store (database from its config) whose `record` task
 * inserts one document per execution into `observed` (a plain insert: a second execution shows
 * as a second document), then sleeps. Messages: `start`, `run-now` (manual runs of a trigger),
 * `stop`. No crash handler on purpose: anything the library lets escape ends the process.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { createScheduler } from 'punctual';
import { mongoStore } from 'punctual/mongodb';
import { TASK, TASK_RETRY, taskSchemas } from '../tasks.js';

export interface MongoWorkerConfig {
  index: number;
  uri: string;
  dbName: string;
  leaseMs: number;
  pollIntervalMs: number;
}

export type MongoParentMessage = { type: 'start' } | { type: 'run-now'; triggerId: string; count: number } | { type: 'stop' };
export type MongoWorkerMessage = { type: 'started'; instanceId: string; pid: number } | { type: 'ran'; runIds: string[] } | { type: 'stopped'; errors: Record<string, number> };

const config = JSON.parse(process.argv[2] ?? '{}') as MongoWorkerConfig;
const send = (message: MongoWorkerMessage): void => {
  if (process.connected) process.send?.(message);
};
const client = new MongoClient(config.uri, { serverSelectionTimeoutMS: 5_000 });
const db = client.db(config.dbName);
const observed = db.collection('observed');
const instanceId = `m${config.index}-${process.pid}`;
const errors: Record<string, number> = {};

const scheduler = createScheduler({
  instanceId,
  store: mongoStore(db),
  leaseMs: config.leaseMs,
  pollIntervalMs: config.pollIntervalMs,
  metricsIntervalMs: 0,
  misfire: 'all',
  handlers: {
    [TASK]: {
      schema: taskSchemas[TASK],
      retry: TASK_RETRY,
      run: async (payload, ctx) => {
        await observed.insertOne({ runId: ctx.runId, triggerId: ctx.triggerId, attempt: ctx.attempt, pid: process.pid, instance: instanceId, startedAt: new Date() });
        if (payload.sleepMs > 0) await delay(payload.sleepMs, undefined, { signal: ctx.signal });
      },
    },
  },
});
scheduler.on('scheduler:error', ({ operation }) => {
  errors[operation] = (errors[operation] ?? 0) + 1;
});

process.on('message', (message: MongoParentMessage) => {
  void (async () => {
    if (message.type === 'start') {
      await scheduler.start();
      send({ type: 'started', instanceId, pid: process.pid });
    } else if (message.type === 'run-now') {
      const runIds: string[] = [];
      for (let i = 0; i < message.count; i++) runIds.push((await scheduler.triggers.runNow(message.triggerId)).id);
      send({ type: 'ran', runIds });
    } else {
      await scheduler.stop({ graceMs: 5_000 });
      await client.close();
      send({ type: 'stopped', errors });
      process.disconnect();
    }
  })();
});
