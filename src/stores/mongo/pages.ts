import type { Collection, Sort } from 'mongodb';

/** One keyset page: the documents the filter (which holds the keyset position) selects, in `sort` order, at most `limit`. */
export async function page<D extends { _id: string }, R>(
  collection: Collection<D>,
  filter: Parameters<Collection<D>['find']>[0],
  sort: Sort,
  limit: number,
  map: (doc: D) => R,
): Promise<R[]> {
  const count = Math.max(0, Math.floor(limit));
  if (count === 0) return [];
  const docs = await collection.find(filter ?? {}, { sort, limit: count }).toArray();
  return docs.map((doc) => map(doc as D));
}
