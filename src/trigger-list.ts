/** `triggers.list`: filters, sort and keyset paging over one owner's or every owner's triggers. */
import type { ApiContext } from './engine.js';
import type { ValidationIssue } from './errors.js';
import { decodeCursor, pageOf } from './cursor.js';
import { checkOptionKeys } from './option-keys.js';
import { checkChoice, checkPage, checkText, throwIfIssues } from './paging.js';
import type { TriggerQuery } from './stores/types.js';
import { NAME_PATTERN } from './trigger-fields.js';
import { SORT_ORDERS, TRIGGER_SORTS, TRIGGER_STATUSES, type Page, type PageQuery, type SortOrder, type TriggerRecord, type TriggerSort, type TriggerStatus } from './types.js';

/**
 * Filters, sort and paging of `triggers.list`. Pages follow each other through `cursor`, which
 * belongs to the filters, sort and view it was listed with.
 */
export interface TriggerListQuery extends PageQuery {
  /** Admin view only: one owner's triggers. */
  owner?: string;
  status?: TriggerStatus;
  taskType?: string;
  /** Exact name. */
  name?: string;
  /** Names that start with this text (case-sensitive). */
  namePrefix?: string;
  /**
   * Sort key, then id. Default `createdAt`. With `name`, a trigger renamed between two pages
   * moves in the order, so it can be seen twice or not at all; `createdAt` never changes.
   */
  sort?: TriggerSort;
  /** Default `asc`. */
  order?: SortOrder;
}

// `offset` is known so checkPage can say what replaced it.
const LIST_KEYS = ['owner', 'status', 'taskType', 'name', 'namePrefix', 'sort', 'order', 'limit', 'cursor', 'offset'];

/** Checks the query, then reads one page; `scopeOwner` (a scoped view) overrides `owner`. */
export async function listTriggers(engine: ApiContext, query: TriggerListQuery, scopeOwner: string | undefined): Promise<Page<TriggerRecord>> {
  checkOptionKeys(query, LIST_KEYS, 'Invalid trigger query');
  const { limit, cursor } = checkPage(query);
  throwIfIssues(filterIssues(query), 'Invalid trigger query');
  const sort = query.sort ?? 'createdAt';
  const order = query.order ?? 'asc';
  const filters = {
    owner: scopeOwner ?? query.owner,
    status: query.status,
    taskType: query.taskType,
    name: query.name,
    namePrefix: query.namePrefix,
  };
  const binding = { list: 'triggers', sort, order, ...filters };
  const position = cursor === undefined ? undefined : decodeCursor(cursor, binding, sort === 'name' ? 'text' : 'time');
  await engine.ready();
  const defined = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined));
  const rows = await engine.store.listTriggers({
    ...(defined as Omit<TriggerQuery, 'sort' | 'order' | 'limit'>),
    sort,
    order,
    limit: limit + 1,
    ...(position ? { after: { value: typeof position.key === 'string' ? position.key : new Date(position.key), id: position.id } } : {}),
  });
  return pageOf(rows, limit, binding, (t) => (sort === 'name' ? t.name : t.createdAt.getTime()));
}

function filterIssues(query: TriggerListQuery): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  checkChoice(query.status, TRIGGER_STATUSES, 'status', issues);
  checkChoice(query.sort, TRIGGER_SORTS, 'sort', issues);
  checkChoice(query.order, SORT_ORDERS, 'order', issues);
  checkText(query.taskType, 'taskType', issues);
  checkText(query.name, 'name', issues);
  checkText(query.owner, 'owner', issues);
  if (query.namePrefix !== undefined && (typeof query.namePrefix !== 'string' || !NAME_PATTERN.test(query.namePrefix))) {
    issues.push({ path: 'namePrefix', message: 'must be 1-100 letters, digits, "-" or "_" (the start of a trigger name)' });
  }
  return issues;
}
