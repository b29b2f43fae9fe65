import type { AuditEntry, Page, RunRecord, TriggerRecord } from 'punctual';

/**
 * What the API returns. Fields are picked one by one, so a field added to punctual's records
 * (a lease token, say) never leaks into responses by accident. Dates become ISO strings in JSON.
 */
export function triggerBody(t: TriggerRecord): Record<string, unknown> {
  return {
    id: t.id,
    owner: t.owner,
    name: t.name,
    taskType: t.taskType,
    payload: t.payload,
    schedule: t.schedule,
    status: t.status,
    nextFireAt: t.nextFireAt,
    priority: t.priority,
    ...(t.timeoutMs !== undefined ? { timeoutMs: t.timeoutMs } : {}),
    ...(t.retry !== undefined ? { retry: t.retry } : {}),
    misfire: t.misfire,
    misfireGraceMs: t.misfireGraceMs,
    overlap: t.overlap,
    runCount: t.runCount,
    ...(t.timing !== undefined ? { timing: t.timing } : {}),
    ...(t.autoPause !== undefined ? { autoPause: t.autoPause } : {}),
    ...(t.pausedReason !== undefined ? { pausedReason: t.pausedReason } : {}),
    ...(t.metadata !== undefined ? { metadata: t.metadata } : {}),
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
  };
}

export function runBody(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    triggerId: r.triggerId,
    triggerName: r.triggerName,
    owner: r.owner,
    taskType: r.taskType,
    payload: r.payload,
    source: r.source,
    status: r.status,
    priority: r.priority,
    scheduledFor: r.scheduledFor,
    availableAt: r.availableAt,
    attempt: r.attempt,
    maxAttempts: r.maxAttempts,
    timeoutMs: r.timeoutMs,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    instanceId: r.instanceId,
    ...(r.result !== undefined ? { result: r.result } : {}),
    ...(r.error !== undefined ? { error: { name: r.error.name, message: r.error.message } } : {}),
    ...(r.progress !== undefined ? { progress: r.progress } : {}),
    cancelRequested: r.cancelRequested,
    attempts: r.attempts.map((a) => ({
      attempt: a.attempt,
      instanceId: a.instanceId,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
      outcome: a.outcome,
      ...(a.error ? { error: { name: a.error.name, message: a.error.message } } : {}),
    })),
    ...(r.event !== undefined ? { event: r.event } : {}),
    createdAt: r.createdAt,
  };
}

export function auditBody(e: AuditEntry): Record<string, unknown> {
  return {
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    owner: e.owner,
    triggerId: e.triggerId,
    ...(e.runId !== undefined ? { runId: e.runId } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  };
}

export function pageBody<T>(page: Page<T>, item: (value: T) => Record<string, unknown>): Record<string, unknown> {
  return { items: page.items.map(item), nextCursor: page.nextCursor };
}
