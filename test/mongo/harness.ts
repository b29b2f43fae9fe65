/**
 * Finds a MongoDB server for the MongoDB suites, once per test run (see global-setup.ts):
 * `MONGODB_URI` if set; else `MONGOMS_SYSTEM_BINARY` (a local `mongod`) started as a one-member
 * replica set by mongodb-memory-server; else mongodb-memory-server's own download, given
 * `MONGOMS_START_TIMEOUT_MS` (default 15 s). Without a server the suites are skipped with one
 * line saying how to enable them; `REQUIRE_MONGODB=1` turns that skip into a failure.
 * Offline, `MONGOMS_RUNTIME_DOWNLOAD=false` makes the download attempt fail at once instead of
 * after its retries (about 7 s).
 * Nothing here imitates MongoDB: no server, no MongoDB tests.
 */
import { MongoClient } from 'mongodb';

export interface MongoTestServer {
  uri: string;
  /** A replica set member or mongos: change streams work. */
  changeStreams: boolean;
  stop: () => Promise<void>;
}

const HOW_TO_ENABLE =
  'set MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0 or MONGOMS_SYSTEM_BINARY=/path/to/mongod (REQUIRE_MONGODB=1 makes this an error)';

/** Resolves a server, or null after printing why the MongoDB suites are skipped. */
export async function resolveMongo(env: NodeJS.ProcessEnv = process.env): Promise<MongoTestServer | null> {
  let reason: string;
  try {
    const server = await startServer(env);
    if (server) return server;
    reason = 'no server';
  } catch (error) {
    reason = `no server (${firstLine(error)})`;
  }
  if (env.REQUIRE_MONGODB === '1') throw new Error(`REQUIRE_MONGODB=1, but there is no MongoDB server for the MongoDB suites: ${reason}; ${HOW_TO_ENABLE}`);
  console.warn(`MongoDB suites skipped: ${reason}; ${HOW_TO_ENABLE}`);
  return null;
}

async function startServer(env: NodeJS.ProcessEnv): Promise<MongoTestServer | null> {
  if (env.MONGODB_URI) return withProbe(env.MONGODB_URI, async () => {});
  const { MongoMemoryReplSet } = await import('mongodb-memory-server');
  const binary = env.MONGOMS_SYSTEM_BINARY ? { binary: { systemBinary: env.MONGOMS_SYSTEM_BINARY } } : {};
  const timeoutMs = Number(env.MONGOMS_START_TIMEOUT_MS ?? 15_000);
  const restoreWarn = muteMemoryServerWarnings();
  const starting = MongoMemoryReplSet.create({ ...binary, replSet: { count: 1, storageEngine: 'wiredTiger' } });
  starting.then(restoreWarn, restoreWarn);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), env.MONGOMS_SYSTEM_BINARY ? Math.max(timeoutMs, 60_000) : timeoutMs);
  });
  try {
    const replSet = await Promise.race([starting, timedOut]);
    if (!replSet) {
      // Still downloading or starting: stop it whenever it comes up, and skip.
      starting.then((late) => late.stop(), () => undefined);
      throw new Error(`mongodb-memory-server did not start within ${timeoutMs} ms`);
    }
    return await withProbe(replSet.getUri(), async () => {
      await replSet.stop();
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the server answers and whether it supports change streams. */
async function withProbe(uri: string, stop: () => Promise<void>): Promise<MongoTestServer> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const hello = await client.db('admin').command({ hello: 1 });
    return { uri, changeStreams: typeof hello.setName === 'string' || hello.msg === 'isdbgrid', stop };
  } catch (error) {
    await stop();
    throw new Error(`cannot reach ${redact(uri)}: ${firstLine(error)}`, { cause: error });
  } finally {
    await client.close();
  }
}

/** mongodb-memory-server prints a full stack on a failed start; the skip line says enough. */
function muteMemoryServerWarnings(): () => void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('Starting the MongoMemory')) return;
    warn(...args);
  };
  return () => {
    console.warn = warn;
  };
}

/** The error's message on one line, cut at 200 characters. */
function firstLine(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function redact(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}
