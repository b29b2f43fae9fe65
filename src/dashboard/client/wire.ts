/**
 * The JSON the dashboard's endpoints send, as the browser receives it: the server's summaries
 * with every Date as an ISO string.
 */
import type { HealthReport } from '../../health.js';
import type { MetricsSnapshot } from '../../metrics.js';
import type { AuditEntry } from '../../types.js';
import type { Listing } from '../listing.js';
import type { RunSummary, TriggerSummary } from '../summaries.js';
import type { Upcoming } from '../upcoming.js';

/** A value after JSON.stringify and JSON.parse: Dates become strings. */
export type Wire<T> = T extends Date ? string : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

export type Run = Wire<RunSummary>;
export type Trigger = Wire<TriggerSummary>;
export type TriggerRow = Trigger & {
  lastOutcome: { status: string; at: string; runId: string } | null;
  recent: { id: string; status: string; durationMs: number | null; scheduledFor: string }[];
};
export type TriggerDetail = { trigger: Trigger; next: string[] };
export type Audit = Wire<AuditEntry>;
export type Page<T> = Listing<T>;
export type UpcomingData = Wire<Upcoming>;
export type Fire = UpcomingData['fires'][number];
export interface HealthData {
  health: Wire<HealthReport>;
  metrics: Wire<MetricsSnapshot>;
  waiting: { count: number; capped: boolean };
  failuresByType: Record<string, number>;
  failuresSampled: boolean;
}
/** A live event: a run or a trigger changed. */
export type LiveEvent = { event: string; run: Run } | { event: string; trigger: Trigger };
