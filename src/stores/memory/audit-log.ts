import type { AuditEntry } from '../../types.js';
import type { AuditQuery } from '../types.js';
import { compareStrings, comparePositions, copy } from './records.js';

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

  /** One keyset page, newest `at` first (then id descending). */
  list(query: AuditQuery): AuditEntry[] {
    const after = query.after ? ([query.after.at.getTime(), query.after.id] as const) : undefined;
    const items: AuditEntry[] = [];
    // Entries are kept oldest first: walk back from the newest, skip to the position, stop when full.
    for (let i = this.entries.length - 1; i >= 0 && items.length < query.limit; i--) {
      const entry = this.entries[i] as AuditEntry;
      if (after && comparePositions([entry.at.getTime(), entry.id], after, true) <= 0) continue;
      if (query.owner !== undefined && entry.owner !== query.owner) continue;
      if (query.triggerId !== undefined && entry.triggerId !== query.triggerId) continue;
      if (query.action !== undefined && entry.action !== query.action) continue;
      items.push(copy(entry));
    }
    return items;
  }
}
