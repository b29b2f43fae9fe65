/**
 * A throwaway PostgreSQL cluster for tests that stop and restart the server: `initdb` in a
 * temporary folder, `pg_ctl` on a free port on 127.0.0.1, trust authentication, removed
 * afterwards. The machine's own PostgreSQL is never touched.
 *
 * The binaries come from `PUNCTUAL_PG_BIN` or the newest /usr/lib/postgresql/<version>/bin.
 * `initdb` refuses to run as root, so under root every command runs as the `postgres` user
 * (`runuser -u postgres`), in a folder that user owns.
 *
 * ```ts
 * const missing = missingPostgresBinaries();
 * describe.skipIf(missing !== null)('...', () => {
 *   let server: PrivatePostgres;
 *   beforeAll(async () => { server = await startPrivatePostgres(); });
 *   afterAll(() => server.remove());
 *   // new pg.Pool({ connectionString: server.url }); await server.restart();
 * });
 * ```
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, removeAtExit, startedServer, waitFor, type PrivateServer } from './free-port.js';

const run = promisify(execFile);
const INSTALL = 'install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql-15; or set PUNCTUAL_PG_BIN to a folder with initdb and pg_ctl)';

/** A throwaway cluster: `url` is postgres://postgres@127.0.0.1:<port>/postgres; `stop` is a fast shutdown (open connections terminated). */
export type PrivatePostgres = PrivateServer;

/**
 * Whether the PostgreSQL at `url` accepts a connection and answers a query now. A connection from
 * this process: no process to spawn, so a check takes milliseconds even on a loaded machine and an
 * outage is dated closely.
 */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface Binaries {
  bin: string;
  /** The command prefix that runs a binary as a user initdb accepts ([] when not root). */
  asUser: string[];
  uid: number | null;
}

function findBinDir(): string | null {
  const fromEnv = process.env.PUNCTUAL_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

function binaries(): Binaries | string {
  const bin = findBinDir();
  if (!bin) return `no initdb/pg_ctl found: ${INSTALL}`;
  if (process.getuid?.() !== 0) return { bin, asUser: [], uid: null };
  // initdb will not run as root: use the postgres user the server package creates.
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    execFileSync('runuser', ['--help'], { stdio: 'ignore' });
    return { bin, asUser: ['runuser', '-u', 'postgres', '--'], uid };
  } catch {
    return 'running as root, and initdb refuses root: a `postgres` user and `runuser` (util-linux) are needed to run it as that user';
  }
}

/** Null when a private cluster can be started here; otherwise what to install, for a skip message. */
export function missingPostgresBinaries(): string | null {
  const found = binaries();
  return typeof found === 'string' ? found : null;
}

/** Creates and starts a private cluster. Throws (with what to install) when the binaries are missing. */
export async function startPrivatePostgres(options: { maxConnections?: number } = {}): Promise<PrivatePostgres> {
  const found = binaries();
  if (typeof found === 'string') throw new Error(`cannot start a private PostgreSQL: ${found}`);
  const dir = mkdtempSync(join(tmpdir(), 'punctual-pg-'));
  if (found.uid !== null) chownSync(dir, found.uid, -1);
  const data = join(dir, 'data');
  const command = (name: string, args: string[]): [string, string[]] => {
    const full = [...found.asUser, join(found.bin, name), ...args];
    return [full[0] as string, full.slice(1)];
  };
  const exec = (name: string, args: string[], timeout = 60_000) => run(...command(name, args), { timeout });
  const execSync = (name: string, args: string[]) => execFileSync(...command(name, args), { stdio: 'ignore', timeout: 30_000 });
  const unregister = removeAtExit(() => {
    execSync('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  } catch (error) {
    unregister();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=${options.maxConnections ?? 200}`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = (): Promise<boolean> => postgresAnswers(url);
  const start = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    await waitFor(ready, 30_000, `private PostgreSQL on port ${port} did not accept connections`);
  };
  const stop = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    await waitFor(async () => !(await ready()), 30_000, `private PostgreSQL on port ${port} did not stop`);
  };
  const discard = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'], 30_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  return startedServer({ url, port, ready, start, stop, discard, unregister });
}
