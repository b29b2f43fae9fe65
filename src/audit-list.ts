import { decodeCursor, pageOf } from './cursor.js';
import type { Engine } from './engine.js';
import type { ValidationIssue } from './errors.js';
import { checkChoice, checkPage, checkText, throwIfIssues } from './paging.js';
import { checkOptionKeys } from './option-keys.js';
import { checkId } from './trigger-input.js';
import { AUDIT_ACTIONS, type AuditEntry, type Page, type PageQuery } from './types.js';

/** Filters and paging of `audit.list` (newest first). */
export interface AuditListQuery extends PageQuery {
  owner?: string;
  triggerId?: string;
  action?: AuditEntry['action'];
}

/** One page of the audit trail, newest `at` first, then by id; the next page through `cursor`. */
export async function listAudit(engine: Pick<Engine, 'ready' | 'store'>, query: AuditListQuery = {}): Promise<Page<AuditEntry>> {
  checkOptionKeys(query, ['owner', 'triggerId', 'action', 'limit', 'cursor', 'offset'], 'Invalid audit query');
  const { limit, cursor } = checkPage(query);
  const issues: ValidationIssue[] = [];
  checkChoice(query.action, AUDIT_ACTIONS, 'action', issues);
  checkText(query.owner, 'owner', issues);
  if (query.triggerId !== undefined) checkId(query.triggerId, 'trigger');
  throwIfIssues(issues, 'Invalid audit query');
  const filters = { owner: query.owner, triggerId: query.triggerId, action: query.action };
  const binding = { list: 'audit', ...filters };
  const position = cursor === undefined ? undefined : decodeCursor(cursor, binding, 'time');
  await engine.ready();
  const defined = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
  const rows = await engine.store.listAudit({
    ...defined,
    limit: limit + 1,
    ...(position ? { after: { at: new Date(position.key), id: position.id } } : {}),
  });
  return pageOf(rows, limit, binding, (entry) => entry.at.getTime());
}
