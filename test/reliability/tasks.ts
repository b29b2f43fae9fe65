/**
 * The task types of the suite, shared by the workers (which run them) and the parent (which
 * creates triggers for them and must validate the same payloads).
 */
import { z } from 'zod';

/**
 * `record`: insert one row into `<schema>.observed`, sleep `sleepMs` (aborted with the run's
 * signal), then note when the execution really ended (`ended_at`, also when it was aborted).
 */
export const TASK = 'record' as const;

/**
 * `record-v2`: the same work under a second task type, which the rolling-deploy scenario's
 * joining instance has no handler for (a type added by the deploy it has not received).
 */
export const TASK_V2 = 'record-v2' as const;

const recordPayload = z.object({ sleepMs: z.number().int().min(0).max(600_000) });

export const taskSchemas = {
  [TASK]: recordPayload,
  [TASK_V2]: recordPayload,
};

export type TaskType = keyof typeof taskSchemas;

/**
 * Handlers retry their own failures (the `observed` insert fails while PostgreSQL is down)
 * quickly and often, so an outage of a few seconds cannot use up a run's attempts.
 */
export const TASK_RETRY = { maxRetries: 10, initialDelayMs: 250, multiplier: 2, maxDelayMs: 2_000, jitter: 0.2 };

/** The table every execution writes to with a plain INSERT, so a second execution shows as a second row. */
export function observedTableSql(schema: string): string {
  return `CREATE TABLE "${schema}".observed (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    trigger_id text NOT NULL,
    source text NOT NULL,
    scheduled_for timestamptz NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    instance text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    sleep_ms integer NOT NULL
  )`;
}
