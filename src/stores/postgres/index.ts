export { PostgresStore, postgresStore } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { PostgresLockStore } from './postgres-lock-store.js';
export { classifyPgError } from './errors.js';
export type { PgErrorKind } from './errors.js';
export { MIGRATIONS, LATEST_VERSION } from './migrations.js';
export type { Migration } from './migrations.js';
