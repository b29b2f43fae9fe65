import type { Engine } from './engine.js';
import type { ValidationIssue } from './errors.js';
import { checkChoice, checkPage, checkText, throwIfIssues } from './paging.js';
import type { AuditQuery } from './stores/types.js';
import { checkId } from './trigger-input.js';
import { AUDIT_ACTIONS, type AuditEntry, type Page } from './types.js';

export interface AuditListQuery {
  owner?: string;
  triggerId?: string;
  action?: AuditEntry['action'];
  limit?: number;
  offset?: number;
}

/** The audit trail (admin view), newest first. */
export interface AuditApi {
  list(query?: AuditListQuery): Promise<Page<AuditEntry>>;
}

/** Reads the audit trail: validates the query, then asks the store. */
export class AuditService implements AuditApi {
  constructor(private readonly engine: Pick<Engine, 'store' | 'ready'>) {}

  async list(query: AuditListQuery = {}): Promise<Page<AuditEntry>> {
    const page = checkPage(query);
    const issues: ValidationIssue[] = [];
    checkChoice(query.action, AUDIT_ACTIONS, 'action', issues);
    checkText(query.owner, 'owner', issues);
    if (query.triggerId !== undefined) checkId(query.triggerId, 'trigger');
    throwIfIssues(issues, 'Invalid audit query');
    await this.engine.ready();
    const filters: AuditQuery = { ...page };
    if (query.owner !== undefined) filters.owner = query.owner;
    if (query.triggerId !== undefined) filters.triggerId = query.triggerId;
    if (query.action !== undefined) filters.action = query.action;
    return this.engine.store.listAudit(filters);
  }
}
