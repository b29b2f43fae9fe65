import { ConfigurationError } from '../../errors.js';
import { preview } from '../../json-limits.js';

/** The default schema of the PostgreSQL store. */
export const DEFAULT_SCHEMA = 'punctual';

/**
 * Longest schema name accepted: PostgreSQL identifiers stop at 63 bytes, and the notification
 * channel `<schema>_changes` must fit too.
 */
const MAX_SCHEMA_LENGTH = 55;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws ConfigurationError unless `schema` is a plain identifier (letters, digits, `_`). */
export function validateSchemaName(schema: unknown): string {
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > MAX_SCHEMA_LENGTH) {
    throw new ConfigurationError(
      `postgresStore: schema must be 1-${MAX_SCHEMA_LENGTH} letters, digits or "_", not starting with a digit; got ${preview(schema)}`,
    );
  }
  return schema;
}

/** Quotes an identifier for SQL. Only ever called on validated names, quoted all the same. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The LISTEN/NOTIFY channel of a schema: `<schema>_changes` (what the notify triggers use). */
export function channelName(schema: string): string {
  return `${schema}_changes`;
}

/**
 * The advisory lock key that serializes migrations of one schema: a 64-bit FNV-1a hash of
 * `punctual:migrate:<schema>`, as a signed decimal string for `pg_advisory_xact_lock($1::bigint)`.
 */
export function advisoryLockKey(schema: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`punctual:migrate:${schema}`)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
}
