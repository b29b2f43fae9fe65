/** The shapes the dashboard sends to the browser: records without leases, results or payloads. */
import type { RunRecord, TriggerRecord } from '../types.js';
import { describeSchedule } from './describe-schedule.js';

export interface RunSummary {
  id: string;
  triggerId: string;
  triggerName: string;
  owner: string;
  taskType: string;
  source: RunRecord['source'];
  status: RunRecord['status'];
  scheduledFor: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  attempt: number;
  maxAttempts: number;
  instanceId: string | null;
  error?: RunRecord['error'];
  progress?: RunRecord['progress'];
  attempts: RunRecord['attempts'];
  cancelRequested: boolean;
}

export function runSummary(run: RunRecord): RunSummary {
  return {
    id: run.id,
    triggerId: run.triggerId,
    triggerName: run.triggerName,
    owner: run.owner,
    taskType: run.taskType,
    source: run.source,
    status: run.status,
    scheduledFor: run.scheduledFor,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    attempt: run.attempt,
    maxAttempts: run.maxAttempts,
    instanceId: run.instanceId,
    ...(run.error ? { error: run.error } : {}),
    ...(run.progress ? { progress: run.progress } : {}),
    attempts: run.attempts,
    cancelRequested: run.cancelRequested,
  };
}

export interface TriggerSummary {
  id: string;
  owner: string;
  name: string;
  taskType: string;
  status: TriggerRecord['status'];
  pausedReason?: string;
  nextFireAt: Date | null;
  schedule: TriggerRecord['schedule'];
  scheduleText: string;
  priority: number;
  misfire: TriggerRecord['misfire'];
  overlap: TriggerRecord['overlap'];
  runCount: number;
  timing?: TriggerRecord['timing'];
  createdAt: Date;
  updatedAt: Date;
}

export function triggerSummary(trigger: TriggerRecord): TriggerSummary {
  return {
    id: trigger.id,
    owner: trigger.owner,
    name: trigger.name,
    taskType: trigger.taskType,
    status: trigger.status,
    ...(trigger.pausedReason && trigger.status === 'paused' ? { pausedReason: trigger.pausedReason } : {}),
    nextFireAt: trigger.nextFireAt,
    schedule: trigger.schedule,
    scheduleText: describeSchedule(trigger.schedule),
    priority: trigger.priority,
    misfire: trigger.misfire,
    overlap: trigger.overlap,
    runCount: trigger.runCount,
    ...(trigger.timing ? { timing: trigger.timing } : {}),
    createdAt: trigger.createdAt,
    updatedAt: trigger.updatedAt,
  };
}
