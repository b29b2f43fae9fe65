import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { toStoreError } from './errors.js';
import { STORE_TYPES } from './parsers.js';

/** Names the unique constraint's meaning for a ConflictError, given the constraint name. */
export type Conflict = (constraint: string | undefined) => string;

/** Runs a query on a pool or a client (`pg` types both the same way). */
type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

/**
 * How the store talks to PostgreSQL: every query with the store's own type parsers and its
 * errors mapped to StoreError/ConflictError. Hot statements are `named`, so each connection
 * prepares them once; the name is unique to the schema.
 */
export class PgExec {
  constructor(
    private readonly pool: Pool,
    private readonly statementName: (operation: string) => string,
  ) {}

  async query<R extends QueryResultRow = Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[] = [],
    conflict?: Conflict,
    on: Queryable = this.pool,
  ): Promise<QueryResult<R>> {
    try {
      return await on.query<R>({ text, values, types: STORE_TYPES });
    } catch (error) {
      throw toStoreError(operation, error, conflict);
    }
  }

  /** A hot statement, prepared once per connection. */
  async named<R extends QueryResultRow = Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[],
    conflict?: Conflict,
    on: Queryable = this.pool,
  ): Promise<QueryResult<R>> {
    try {
      return await on.query<R>({ name: this.statementName(operation), text, values, types: STORE_TYPES });
    } catch (error) {
      throw toStoreError(operation, error, conflict);
    }
  }
}
