import type { AuditEntry, Page } from '../../types.js';
import type { AuditQuery } from '../types.js';
import { compareStrings, copy, page } from './records.js';

function oldestFirst(a: AuditEntry, b: AuditEntry): number {
  return a.at.getTime() - b.at.getTime() || compareStrings(a.id, b.id);
}

/** The memory store's audit trail, kept ordered by (`at`, `id`); listed newest first. */
export class AuditLog {
  private readonly entries: AuditEntry[] = [];
  private readonly ids = new Set<string>();

  /** Appends a copy of `entry`. An id already present is ignored, so a retried append is harmless. */
  append(entry: AuditEntry): void {
    if (this.ids.has(entry.id)) return;
    this.ids.add(entry.id);
    const stored = copy(entry);
    // Entries nearly always arrive in time order: search from the end.
    let index = this.entries.length;
    while (index > 0 && oldestFirst(this.entries[index - 1] as AuditEntry, stored) > 0) index--;
    this.entries.splice(index, 0, stored);
  }

  /** Newest `at` first (then id descending). */
  list(query: AuditQuery): Page<AuditEntry> {
    const matches: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i] as AuditEntry;
      if (query.owner !== undefined && entry.owner !== query.owner) continue;
      if (query.triggerId !== undefined && entry.triggerId !== query.triggerId) continue;
      if (query.action !== undefined && entry.action !== query.action) continue;
      matches.push(entry);
    }
    return page(matches, query);
  }
}
