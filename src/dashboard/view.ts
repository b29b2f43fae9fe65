import type { RunsApi } from '../runs.js';
import type { AuditListQuery } from '../audit-list.js';
import type { Scheduler } from '../scheduler.js';
import type { TriggersApi } from '../triggers.js';
import type { AuditEntry, Page } from '../types.js';
import type { DashboardAccess } from './options.js';

/**
 * What one request may see: the admin view (`scheduler` itself) or one owner's
 * (`scheduler.forOwner(owner)`). Every read and action of the dashboard goes through a View, so
 * owner isolation is the scheduler's own scoping, not a filter written again here.
 */
export interface View {
  /** Undefined in the admin view. */
  readonly owner: string | undefined;
  readonly actor: string;
  readonly canAct: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly triggers: TriggersApi<any, any>;
  readonly runs: RunsApi;
  /** The audit trail, limited to the view's owner. */
  audit(query: Omit<AuditListQuery, 'owner'>): Promise<Page<AuditEntry>>;
}

export function viewFor(scheduler: Scheduler, access: DashboardAccess, readOnly: boolean): View {
  const canAct = access.canAct === true && !readOnly;
  if (access.owner === undefined) {
    return { owner: undefined, actor: access.actor, canAct, triggers: scheduler.triggers, runs: scheduler.runs, audit: (query) => scheduler.audit.list(query) };
  }
  const owner = access.owner;
  const scoped = scheduler.forOwner(owner);
  return { owner, actor: access.actor, canAct, triggers: scoped.triggers, runs: scoped.runs, audit: (query) => scheduler.audit.list({ ...query, owner }) };
}
