/**
 * Reproduction: a schema name the PostgreSQL store accepts (up to 55 characters,
 * src/stores/postgres/schema.ts MAX_SCHEMA_LENGTH) makes its prepared-statement names
 * (`punctual:<schema>:<operation>`, src/stores/postgres/sql.ts `name()`) longer than
 * PostgreSQL's 63-byte limit for identifiers. The server truncates them, so two operations get
 * the same statement name on one connection, and the second fails with 42P05 ("prepared
 * statement ... already exists") on that connection every time after. From 44 characters on,
 * `claimRuns` and `claimRunsByType` collide; from 53 on, every statement collides with the first
 * one prepared. (`pg` also prints a warning for every name over 63 characters.)
 *
 *   node --import tsx test/reliability/repro/long-schema-statement-names.ts
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { postgresStore } from 'punctual/postgres';
import { DATABASE_URL } from '../services.js';

/** What went wrong, or null when the store works with a 55-character schema. */
export async function longSchemaStatementNames(): Promise<string | null> {
  const schema = `punctual_long_${'x'.repeat(41)}`; // 55 characters: accepted by validateSchemaName
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 }); // one connection: both statements share it
  pool.on('error', () => undefined);
  const store = postgresStore(pool, { schema, listen: false });
  // pg-protocol prints a warning (console.error) for each over-long name; the finding says it once.
  const printError = console.error;
  console.error = () => undefined;
  try {
    await store.init();
    const now = new Date();
    await store.findDueTriggers(now, 10);
    await store.claimRuns({ now, instanceId: 'repro', token: 'tok', leaseMs: 30_000, limit: 10 });
    return null;
  } catch (error) {
    return `with the ${schema.length}-character schema "${schema}": ${(error as Error).message}`;
  } finally {
    console.error = printError;
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const finding = await longSchemaStatementNames();
  console.log(finding ? `REPRODUCED: ${finding}` : 'not reproduced');
  if (finding) process.exitCode = 1;
}
