import type { Collection } from 'mongodb';
import type { AuditEntry } from '../../types.js';
import type { AuditQuery } from '../types.js';
import { fromAuditDoc, toAuditDoc, type AuditDoc } from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import { page } from './pages.js';
import { AUDIT_LIST_SORT, auditListFilter } from './queries.js';

/** `Store.appendAudit`: the same entry appended twice (a retry) keeps the first. */
export async function appendAudit(audit: Collection<AuditDoc>, entry: AuditEntry): Promise<void> {
  try {
    await audit.insertOne(toAuditDoc(entry));
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}

/** `Store.listAudit`: one keyset page, newest first. */
export function listAudit(audit: Collection<AuditDoc>, query: AuditQuery): Promise<AuditEntry[]> {
  return page(audit, auditListFilter(query), AUDIT_LIST_SORT, query.limit, fromAuditDoc);
}
