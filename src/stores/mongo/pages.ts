import type { Collection, Sort } from 'mongodb';
import type { Page } from '../../types.js';
import { pageWindow } from './queries.js';

/** One page: the items (sorted, skipped, limited) and the total count, in parallel. */
export async function page<D extends { _id: string }, R>(
  collection: Collection<D>,
  filter: Parameters<Collection<D>['find']>[0],
  sort: Sort,
  query: { limit: number; offset: number },
  map: (doc: D) => R,
): Promise<Page<R>> {
  const window = pageWindow(query);
  const [docs, total] = await Promise.all([
    window ? collection.find(filter ?? {}, { sort, ...window }).toArray() : Promise.resolve([]),
    collection.countDocuments(filter ?? {}),
  ]);
  return { items: docs.map((doc) => map(doc as D)), total, limit: query.limit, offset: query.offset };
}
