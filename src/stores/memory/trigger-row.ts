import type { Schedule, TriggerRecord } from '../../types.js';
import { copy } from './records.js';

/**
 * The settings many triggers have in common (copies of one declaration, a tenant's triggers of
 * one task type): interned, so a million such triggers hold one object between them.
 */
interface Common {
  owner: string;
  taskType: string;
  payload: unknown;
  priority: number;
  misfire: TriggerRecord['misfire'];
  misfireGraceMs: number;
  overlap: TriggerRecord['overlap'];
}

/** The optional fields of a trigger, present only on the triggers that have any. */
type Rest = Partial<Pick<TriggerRecord, 'timeoutMs' | 'retry' | 'timing' | 'autoPause' | 'pausedReason' | 'metadata'>>;
const REST_KEYS = ['timeoutMs', 'retry', 'timing', 'autoPause', 'pausedReason', 'metadata'] as const;

/**
 * Instants are held as ms from this origin, the first instant the process stored: within about
 * 24 days of it an offset is a small integer, which V8 keeps inside the row, where an epoch ms
 * value would be a separate 16-byte number box (three per trigger). Farther instants are boxed
 * as before; nothing else changes.
 */
let origin: number | undefined;

function offset(ms: number): number {
  origin ??= ms;
  return ms - origin;
}

function instant(stored: number): number {
  return stored + (origin as number);
}

/** Interned values stop being added past this many (many owners would otherwise grow it forever). */
const INTERN_LIMIT = 10_000;

/**
 * How the memory store holds a trigger: instants as epoch ms instead of `Date` objects, shared
 * parts interned, an interval's anchor inline. A row is never changed once stored (a write
 * stores a new row), so indexes may hold the row itself, and it is never handed out: callers
 * get {@link TriggerRow.toRecord}, a fresh deep copy.
 * About 330 bytes per interval trigger with a shared payload, against about 1 KB as a copied
 * `TriggerRecord` with its four `Date`s and index entries.
 */
export class TriggerRow {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly common: Common,
    /** Interned; for an interval, without its anchor. */
    readonly schedule: Schedule | { kind: 'interval'; everyMs: number },
    /** An interval's anchor, held here so that its schedule can be shared. */
    readonly anchor: string | undefined,
    readonly status: TriggerRecord['status'],
    /** ms from `origin` (see {@link offset}); NaN for null. Compares like the instants. */
    readonly fireAt: number,
    readonly runCount: number,
    private readonly created: number,
    private readonly updated: number,
    readonly version: number,
    readonly rest: Rest | undefined,
  ) {}

  get owner(): string {
    return this.common.owner;
  }

  get taskType(): string {
    return this.common.taskType;
  }

  get isDue(): boolean {
    return this.status === 'active' && !Number.isNaN(this.fireAt);
  }

  /** Epoch ms. */
  get createdAt(): number {
    return instant(this.created);
  }

  /** The trigger as a new record that shares nothing with the row. */
  toRecord(): TriggerRecord {
    const { common, schedule } = this;
    const record: TriggerRecord = {
      id: this.id,
      owner: common.owner,
      name: this.name,
      taskType: common.taskType,
      payload: typeof common.payload === 'object' && common.payload !== null ? copy(common.payload) : common.payload,
      schedule:
        this.anchor !== undefined
          ? { kind: 'interval', everyMs: (schedule as { everyMs: number }).everyMs, anchor: this.anchor }
          : schedule.kind === 'event'
            ? copy(schedule)
            : { ...(schedule as Schedule) },
      status: this.status,
      nextFireAt: Number.isNaN(this.fireAt) ? null : new Date(instant(this.fireAt)),
      priority: common.priority,
      misfire: common.misfire,
      misfireGraceMs: common.misfireGraceMs,
      overlap: common.overlap,
      runCount: this.runCount,
      createdAt: new Date(instant(this.created)),
      updatedAt: new Date(instant(this.updated)),
      version: this.version,
    };
    const rest = this.rest;
    if (rest) for (const key of REST_KEYS) if (key in rest) (record as unknown as Record<string, unknown>)[key] = copy(rest[key]);
    return record;
  }
}

/** `ms` (epoch) as a row's `fireAt` compares. */
export function fireAtOf(ms: number): number {
  return offset(ms);
}

/** Builds rows from records, interning what rows may share. */
export class RowBuilder {
  private readonly commons = new Map<string, Common>();
  private readonly schedules = new Map<string, Schedule | { kind: 'interval'; everyMs: number }>();

  /** A row holding a deep copy of `record` (with `id` instead of `record.id` when given). */
  row(record: TriggerRecord, id = record.id): TriggerRow {
    const s = record.schedule;
    const anchor = s.kind === 'interval' && keyCount(s) === 3 ? s.anchor : undefined;
    let rest: Rest | undefined;
    for (const key of REST_KEYS) if (key in record) (rest ??= {})[key] = copy(record[key]) as never;
    return new TriggerRow(
      id,
      record.name,
      this.common(record),
      anchor !== undefined ? this.intern(this.schedules, `i\u0000${(s as { everyMs: number }).everyMs}`, () => ({ kind: 'interval', everyMs: (s as { everyMs: number }).everyMs })) : this.schedule(s),
      anchor,
      record.status,
      record.nextFireAt === null ? Number.NaN : offset(record.nextFireAt.getTime()),
      record.runCount,
      offset(record.createdAt.getTime()),
      offset(record.updatedAt.getTime()),
      record.version,
      rest,
    );
  }

  private common(r: TriggerRecord): Common {
    const make = (): Common => ({ owner: r.owner, taskType: r.taskType, payload: copy(r.payload), priority: r.priority, misfire: r.misfire, misfireGraceMs: r.misfireGraceMs, overlap: r.overlap });
    const payload = payloadKey(r.payload);
    if (payload === undefined) return make();
    return this.intern(this.commons, `${r.owner}\u0000${r.taskType}\u0000${r.priority}\u0000${r.misfire}\u0000${r.misfireGraceMs}\u0000${r.overlap}\u0000${payload}`, make);
  }

  private schedule(s: Schedule): Schedule {
    const key =
      s.kind === 'cron' && keyCount(s) === 3
        ? `c\u0000${s.expression}\u0000${s.timezone}`
        : s.kind === 'once' && keyCount(s) === 2
          ? `o\u0000${s.at}`
          : s.kind === 'manual' && keyCount(s) === 1
            ? 'm'
            : undefined;
    return key === undefined ? copy(s) : (this.intern(this.schedules, key, () => ({ ...s })) as Schedule);
  }

  private intern<T>(map: Map<string, T>, key: string, make: () => T): T {
    let value = map.get(key);
    if (value === undefined) {
      value = make();
      if (map.size < INTERN_LIMIT) map.set(key, value);
    }
    return value;
  }
}

/** A key for payloads worth sharing (an empty object, null, a number or boolean); undefined for others. */
function payloadKey(payload: unknown): string | undefined {
  if (payload === null || payload === undefined || typeof payload === 'boolean') return String(payload);
  if (typeof payload === 'number') return Object.is(payload, -0) ? 'number:-0' : `number:${payload}`;
  if (typeof payload !== 'object' || Array.isArray(payload) || Object.getPrototypeOf(payload) !== Object.prototype) return undefined;
  for (const _key in payload) return undefined;
  return Object.getOwnPropertySymbols(payload).length === 0 ? '{}' : undefined;
}

function keyCount(value: object): number {
  let count = 0;
  for (const _key in value) count++;
  return count;
}
