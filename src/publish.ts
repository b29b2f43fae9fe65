import { buildRun, type ApiContext, type Engine } from './engine.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { jsonIssue } from './json-limits.js';
import { checkOptionKeys } from './option-keys.js';
import { checkEventName, eventMatches } from './schedules/event.js';
import { ID_PATTERN } from './trigger-input.js';
import type { RunRecord, TriggerRecord } from './types.js';

/** Options of `scheduler.publish`. */
export interface PublishOptions {
  /**
   * The event's id, used in the run ids: publishing again with the same id creates no second
   * run, so a publish can be retried safely after a crash or a timeout. Default: a new random id.
   */
  id?: string;
}

export interface PublishResult {
  eventId: string;
  /** Runs created by this call, one per matching trigger (stored before publish resolves). */
  runs: RunRecord[];
  /** Matching triggers that already had a run for this event (a retried publish, or a debounce window). */
  duplicates: number;
}

const PAGE = 500;
const MAX_DATA_BYTES = 256 * 1024;

/**
 * Fires the event triggers listening for `name` whose filter matches `data`. Durable: when
 * this resolves, every run is in the store, and each (trigger, event) has exactly one run id.
 */
export async function publishEvent(engine: ApiContext, name: string, data: unknown, options: PublishOptions, owner?: string): Promise<PublishResult> {
  checkOptionKeys(options, ['id'], 'Invalid event');
  const issues: ValidationIssue[] = [...checkEventName(name, 'event')];
  if (options.id !== undefined && !(typeof options.id === 'string' && ID_PATTERN.test(options.id))) {
    issues.push({ path: 'id', message: 'must be 1-200 letters, digits, "_-.:@"' });
  }
  const dataIssue = data === undefined ? null : jsonIssue(data, 'data', { dates: true });
  const json = dataIssue ? null : safeJson(data);
  if (dataIssue) issues.push(dataIssue);
  else if (json === null) issues.push({ path: 'data', message: 'must be JSON-serializable' });
  else if (Buffer.byteLength(json) > MAX_DATA_BYTES) issues.push({ path: 'data', message: `must be at most ${MAX_DATA_BYTES} bytes of JSON` });
  if (issues.length > 0) throw ValidationError.from(issues, 'Invalid event');
  await engine.ready();

  const eventId = options.id ?? engine.newId();
  const publishedAt = engine.now();
  const event = { name, data: JSON.parse(json as string) as unknown, publishedAt };
  const runs: RunRecord[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await engine.store.findEventTriggers(name, PAGE, offset);
    for (const trigger of page) {
      if (owner !== undefined && trigger.owner !== owner) continue;
      if (!listens(engine, trigger, data, publishedAt)) continue;
      runs.push(eventRun(engine, trigger, eventId, event));
    }
    if (page.length < PAGE) break;
  }
  const inserted = runs.length > 0 ? await engine.store.insertRuns(runs) : [];
  const created = runs.filter((_, i) => inserted[i]);
  for (const run of created) {
    engine.metrics.increment('runsScheduled');
    engine.events.emit('run:scheduled', { run });
  }
  engine.events.emit('event:published', { name, eventId, runs: created.length });
  for (const run of created) engine.wake(run.availableAt);
  return { eventId, runs: created, duplicates: runs.length - created.length };
}

function listens(engine: Engine, trigger: TriggerRecord, data: unknown, at: Date): boolean {
  if (trigger.schedule.kind !== 'event' || !eventMatches(trigger.schedule.filter, data)) return false;
  const timing = trigger.timing;
  const t = at.getTime();
  if (timing?.startAt && t < Date.parse(timing.startAt)) return false;
  if (timing?.endAt && t > Date.parse(timing.endAt)) return false;
  return !(timing?.calendars ?? []).some((name) => engine.options.calendars.get(name)?.excludes(t));
}

/** One run per (trigger, event); with a debounce window, one per (trigger, window), run at the window's end. */
function eventRun(engine: Engine, trigger: TriggerRecord, eventId: string, event: RunRecord['event'] & object): RunRecord {
  const debounceMs = trigger.schedule.kind === 'event' ? trigger.schedule.debounceMs : undefined;
  if (debounceMs) {
    const windowStart = Math.floor(event.publishedAt.getTime() / debounceMs) * debounceMs;
    const windowEnd = new Date(windowStart + debounceMs);
    return buildRun(engine, trigger, { id: `${trigger.id}@window:${new Date(windowStart).toISOString()}`, source: 'event', scheduledFor: windowEnd, event });
  }
  return buildRun(engine, trigger, { id: `${trigger.id}@event:${eventId}`, source: 'event', scheduledFor: event.publishedAt, event });
}

function safeJson(value: unknown): string | null {
  try {
    const json = JSON.stringify(value === undefined ? null : value);
    return typeof json === 'string' ? json : null;
  } catch {
    return null;
  }
}
