/**
 * The accounting every scenario ends with, from the store's own tables and the handlers'
 * `observed` rows:
 *
 * - every slot of every scheduled trigger, from its first slot up to the `nextFireAt` it was
 *   paused at, has exactly one run (the slot's deterministic id), and no other slot has one;
 * - every run is final and completed (or, where the scenario allows it, skipped by its
 *   overlap policy before any attempt started), and its attempt history is consistent;
 * - every manual run `runNow` acknowledged is in the store;
 * - no run attempt was executed twice, and an earlier attempt was executed again only when
 *   the history records why (`retry`, `timed_out`, `lease_expired`: a retry or a takeover).
 */
import { nextFireTime, type TriggerRecord } from 'punctual';
import type { ObservedRow, RunRow } from './database.js';
import type { Workload } from './workload.js';

export interface Accounting {
  /** Slots the scheduled triggers had between their first slot and the pause. */
  slots: number;
  /** Manual runs in the store. */
  manual: number;
  runs: number;
  completed: number;
  /** Runs skipped by their overlap policy (allowed only where the scenario says so). */
  skipped: number;
  /** Rows in `observed`: handler executions that started. */
  executions: number;
  /** Executions beyond one per attempt, plus re-executions the history does not explain. */
  duplicates: number;
  /** Missing slots, runs that never completed, acknowledged manual runs not in the store. */
  lost: number;
  /** Runs taken over after a lease expired. */
  takeovers: number;
  /** Runs whose lease expired more than once. */
  repeatedTakeovers: number;
  /** Runs retried after a failed attempt. */
  retries: number;
  /** Slots still unfired at the pause although due more than `lagToleranceMs` before it. */
  unfired: number;
  /** Start lag of first attempts (startedAt - scheduledFor), ms. */
  lag: { p50: number; p99: number; max: number };
  violations: string[];
}

export interface AccountingInput {
  workload: Workload;
  /** The triggers as read after the pause. */
  triggers: TriggerRecord[];
  runs: RunRow[];
  observed: ObservedRow[];
  /** Manual run ids `runNow` returned, from every process. */
  acknowledged: string[];
  pausedAt: number;
  /** Overlap-policy skips are legitimate here (overlap `queue` with a run waiting). */
  allowOverlapSkips?: boolean;
  lagToleranceMs?: number;
}

/** Outcomes of an attempt that explain a further attempt of the same run. */
const RE_EXECUTED = new Set(['retry', 'timed_out', 'lease_expired']);
/** Violations listed in full; beyond this, a count. */
const MAX_LISTED = 15;

export function account(input: AccountingInput): Accounting {
  const { workload, runs, observed } = input;
  const violations: string[] = [];
  let listed = 0;
  const violation = (message: string): void => {
    if (listed++ < MAX_LISTED) violations.push(message);
  };
  const byId = new Map(runs.map((run) => [run.id, run]));
  let slots = 0;
  let lost = 0;
  let duplicates = 0;
  let unfired = 0;

  // Slots: exactly the schedule's slots between the first one and the pause, one run each.
  const expectedIds = new Set<string>();
  const lastState = new Map(input.triggers.map((t) => [t.id, t]));
  for (const created of workload.scheduled) {
    const trigger = lastState.get(created.id);
    const first = workload.firstSlots.get(created.id);
    if (!trigger || first === undefined) {
      violation(`trigger ${created.name} vanished or had no first slot`);
      continue;
    }
    const end = trigger.nextFireAt?.getTime() ?? Number.POSITIVE_INFINITY;
    let count = 0;
    for (let slot: Date | null = new Date(first); slot && slot.getTime() < end; slot = nextFireTime(trigger.schedule, slot)) {
      const id = `${trigger.id}@${slot.toISOString()}`;
      expectedIds.add(id);
      count++;
      if (!byId.has(id)) {
        lost++;
        violation(`slot lost: ${trigger.name} ${slot.toISOString()} has no run`);
      }
    }
    slots += count;
    if (trigger.runCount !== count) violation(`${trigger.name}: runCount ${trigger.runCount}, but ${count} slots lie between its first slot and the pause`);
    const tolerance = input.lagToleranceMs ?? 5_000;
    if (end < input.pausedAt - tolerance) {
      for (let slot: Date | null = new Date(end); slot && slot.getTime() < input.pausedAt - tolerance; slot = nextFireTime(trigger.schedule, slot)) unfired++;
      violation(`${trigger.name} fell behind: its slot ${new Date(end).toISOString()} was still unfired at the pause, ${input.pausedAt - end} ms later`);
    }
  }
  for (const run of runs) {
    if (run.source === 'schedule' && !expectedIds.has(run.id)) violation(`run ${run.id} is not a slot of its trigger's schedule between its first slot and the pause`);
  }

  // Every run final and completed, with a consistent history.
  let completed = 0;
  let skipped = 0;
  let takeovers = 0;
  let repeatedTakeovers = 0;
  let retries = 0;
  for (const run of runs) {
    const expired = run.attempts.filter((a) => a.outcome === 'lease_expired').length;
    if (expired > 0) takeovers++;
    if (expired > 1) repeatedTakeovers++;
    if (run.attempts.some((a) => a.outcome === 'retry' || a.outcome === 'timed_out')) retries++;
    if (run.status === 'completed') {
      completed++;
      const last = run.attempts[run.attempts.length - 1];
      const consistent =
        run.attempts.length === run.attempt &&
        last?.outcome === 'completed' &&
        run.attempts.every((a, i) => a.attempt === i + 1 && (i === run.attempts.length - 1 || RE_EXECUTED.has(a.outcome)));
      if (!consistent) violation(`run ${run.id}: completed at attempt ${run.attempt} with history ${run.attempts.map((a) => `${a.attempt}:${a.outcome}`).join(',')}`);
    } else if (run.status === 'skipped' && input.allowOverlapSkips && run.source === 'schedule' && run.overlap === 'queue' && run.error?.name === 'Skipped' && run.attempts.length === 0) {
      skipped++;
    } else {
      lost++;
      const history = run.attempts.map((a) => `${a.attempt}:${a.outcome}`).join(',') || 'none';
      violation(`run ${run.id} (${run.source}) ended ${run.status} at attempt ${run.attempt}, history ${history}${run.error ? `: ${run.error.name}: ${run.error.message}` : ''}`);
    }
  }

  for (const id of input.acknowledged) {
    if (!byId.has(id)) {
      lost++;
      violation(`manual run ${id} was acknowledged by runNow but is not in the store`);
    }
  }

  // Executions: one per attempt; an attempt executed again only for a recorded reason.
  const perAttempt = new Map<string, ObservedRow[]>();
  for (const row of observed) {
    const key = `${row.runId}#${row.attempt}`;
    const rows = perAttempt.get(key);
    if (rows) rows.push(row);
    else perAttempt.set(key, [row]);
  }
  const executedAttempts = new Map<string, Set<number>>();
  for (const rows of perAttempt.values()) {
    const { runId, attempt } = rows[0] as ObservedRow;
    if (rows.length > 1) {
      duplicates += rows.length - 1;
      violation(`run ${runId} attempt ${attempt} executed ${rows.length} times (${rows.map((r) => r.instance).join(', ')})`);
    }
    const run = byId.get(runId);
    if (!run) {
      duplicates++;
      violation(`execution of ${runId}, which is not in the store`);
      continue;
    }
    (executedAttempts.get(runId) ?? executedAttempts.set(runId, new Set()).get(runId))?.add(attempt);
    if (attempt > run.attempt) {
      duplicates++;
      violation(`run ${runId}: attempt ${attempt} executed, but the run records ${run.attempt} attempts`);
    } else if (attempt < run.attempt) {
      const record = run.attempts.find((a) => a.attempt === attempt);
      if (!record || !RE_EXECUTED.has(record.outcome)) {
        duplicates++;
        violation(`run ${runId}: attempt ${attempt} was followed by attempt ${run.attempt} without a recorded retry or takeover (${record?.outcome ?? 'no record'})`);
      }
    }
  }
  for (const run of runs) {
    const executed = executedAttempts.get(run.id);
    if (run.status === 'completed' && !executed?.has(run.attempt)) violation(`run ${run.id} completed at attempt ${run.attempt} without an execution of that attempt`);
    if (run.status === 'skipped' && run.attempts.length === 0 && executed) {
      duplicates++;
      violation(`run ${run.id} was skipped without any attempt, yet executed`);
    }
  }

  if (listed > MAX_LISTED) violations.push(`... and ${listed - MAX_LISTED} more`);
  return {
    slots,
    manual: runs.filter((r) => r.source === 'manual').length,
    runs: runs.length,
    completed,
    skipped,
    executions: observed.length,
    duplicates,
    lost,
    takeovers,
    repeatedTakeovers,
    retries,
    unfired,
    lag: startLag(runs),
    violations,
  };
}

function startLag(runs: RunRow[]): Accounting['lag'] {
  const lags = runs
    .filter((r) => r.source === 'schedule' && r.attempt === 1 && r.startedAt !== null)
    .map((r) => (r.startedAt as number) - r.scheduledFor)
    .sort((a, b) => a - b);
  const at = (q: number): number => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: lags[lags.length - 1] ?? 0 };
}

/** Two executions of one trigger that ran at the same time. */
export interface Overlap {
  triggerId: string;
  /** How long both ran, ms. */
  ms: number;
  text: string;
}

/**
 * Executions of one trigger that overlap in time, for triggers whose overlap policy promises
 * one run at a time (every policy but `allow`). An execution ends at its `ended_at`, or at its
 * start + sleep when that was not recorded.
 */
export function overlappingExecutions(runs: RunRow[], observed: ObservedRow[]): Overlap[] {
  const exclusive = new Set(runs.filter((r) => r.overlap !== 'allow').map((r) => r.triggerId));
  const byTrigger = new Map<string, ObservedRow[]>();
  for (const row of observed) {
    if (!exclusive.has(row.triggerId)) continue;
    (byTrigger.get(row.triggerId) ?? byTrigger.set(row.triggerId, []).get(row.triggerId))?.push(row);
  }
  const end = (row: ObservedRow): number => row.endedAt ?? row.startedAt + row.sleepMs;
  const found: Overlap[] = [];
  for (const [triggerId, rows] of byTrigger) {
    rows.sort((a, b) => a.startedAt - b.startedAt);
    let latest = rows[0] as ObservedRow;
    for (const current of rows.slice(1)) {
      const ms = end(latest) - current.startedAt;
      if (ms > 0) {
        found.push({ triggerId, ms, text: `${current.runId} (${current.instance}) started ${ms} ms before ${latest.runId} (${latest.instance}) ended` });
      }
      if (end(current) > end(latest)) latest = current;
    }
  }
  return found;
}
