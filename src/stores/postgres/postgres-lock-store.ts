import type { Pool } from 'pg';
import type { AcquireRequest, Lock, LockStore } from '../../locks/types.js';
import { toStoreError } from './errors.js';
import { DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from './schema.js';

/**
 * A {@link LockStore} in the PostgreSQL store's schema: one row per resource in `locks`
 * (created by the store's `init()`), each statement atomic on its own. Expiry compares the
 * `now` handed in with the stored `expires_at`, like every punctual lock store. Releasing
 * clears the holder but keeps the row, so the fence of a resource only ever grows.
 * Get one from `postgresStore(pool).createLockStore()`; it never closes the pool.
 * @example
 * const store = postgresStore(pool);
 * const scheduler = createScheduler({ store, lockStore: store.createLockStore(), handlers });
 */
export class PostgresLockStore implements LockStore {
  readonly kind = 'postgres';
  private readonly schema: string;
  private readonly table: string;

  constructor(
    private readonly pool: Pool,
    options: { schema?: string } = {},
  ) {
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.table = `${quoteIdent(this.schema)}.locks`;
  }

  /** Inserts the row, or takes it over when expired (fence + 1); nothing comes back when held. */
  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const expiresAt = new Date(request.now.getTime() + request.ttlMs);
    const text = `INSERT INTO ${this.table} AS l (resource, owner, token, fence, expires_at) VALUES ($1, $2, $3, 1, $5)
      ON CONFLICT (resource) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token, fence = l.fence + 1,
        expires_at = EXCLUDED.expires_at
      WHERE l.expires_at <= $4
      RETURNING fence`;
    const values = [request.resource, request.owner, request.token, request.now, expiresAt];
    const { rows } = await this.query<{ fence: string }>('acquire', text, values);
    if (!rows[0]) return null;
    return { resource: request.resource, owner: request.owner, token: request.token, fence: Number(rows[0].fence), expiresAt };
  }

  async renew(lock: Lock, ttlMs: number, now: Date): Promise<Lock | null> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    const text = `UPDATE ${this.table} SET expires_at = $4
      WHERE resource = $1 AND token = $2 AND expires_at > $3 RETURNING owner, fence`;
    const { rows } = await this.query<{ owner: string; fence: string }>('renew', text, [lock.resource, lock.token, now, expiresAt]);
    if (!rows[0]) return null;
    return { resource: lock.resource, owner: rows[0].owner, token: lock.token, fence: Number(rows[0].fence), expiresAt };
  }

  async release(lock: Lock): Promise<boolean> {
    const text = `UPDATE ${this.table} SET owner = NULL, token = NULL, expires_at = '-infinity'
      WHERE resource = $1 AND token = $2`;
    const result = await this.query('release', text, [lock.resource, lock.token]);
    return result.rowCount === 1;
  }

  async close(): Promise<void> {}

  private async query<R extends Record<string, unknown>>(operation: string, text: string, values: unknown[]) {
    try {
      return await this.pool.query<R>({ name: `punctual:${this.schema}:lock.${operation}`, text, values });
    } catch (error) {
      throw toStoreError(`lock ${operation}`, error);
    }
  }
}
