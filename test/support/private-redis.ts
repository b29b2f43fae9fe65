/**
 * A throwaway `redis-server` for tests that stop and restart Redis: a child process on a free
 * port on 127.0.0.1, no persistence (a restart loses every key, as a crash of a cache would),
 * killed when removed or when the test process exits. The machine's own Redis is never touched.
 *
 * ```ts
 * const missing = missingRedisBinary();
 * describe.skipIf(missing !== null)('...', () => {
 *   let server: PrivateRedis;
 *   beforeAll(async () => { server = await startPrivateRedis(); });
 *   afterAll(() => server.remove());
 *   // new Redis(server.url); await server.restart();
 * });
 * ```
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, removeAtExit, startedServer, waitFor, type PrivateServer } from './free-port.js';

const BINARY = process.env.PUNCTUAL_REDIS_SERVER ?? 'redis-server';
const INSTALL = 'install redis-server (Debian/Ubuntu: apt-get install redis-server; or set PUNCTUAL_REDIS_SERVER to its path)';

/** A throwaway `redis-server`: `url` is redis://127.0.0.1:<port>; `stop` is SIGTERM without a save, `start` comes back empty. */
export type PrivateRedis = PrivateServer;

/** Null when a private Redis can be started here; otherwise what to install, for a skip message. */
export function missingRedisBinary(): string | null {
  try {
    execFileSync(BINARY, ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return `no ${BINARY} found: ${INSTALL}`;
  }
}

/** PING over a raw socket, so the check needs no client library or redis-cli. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** Starts a private Redis. Throws (with what to install) when redis-server is missing. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const missing = missingRedisBinary();
  if (missing) throw new Error(`cannot start a private Redis: ${missing}`);
  const port = await freePort();
  let child: ChildProcess | null = null;
  const unregister = removeAtExit(() => child?.kill('SIGKILL'));
  const ready = (): Promise<boolean> => ping(port);

  const start = async (): Promise<void> => {
    if (child) throw new Error(`private Redis on port ${port} is already running`);
    const started = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    child = started;
    let exited = false;
    started.once('exit', () => {
      exited = true;
      if (child === started) child = null;
    });
    started.once('error', () => undefined);
    await waitFor(async () => {
      if (exited) throw new Error(`private Redis on port ${port} exited at start (is the port taken?)`);
      return ready();
    }, 30_000, `private Redis on port ${port} did not answer PING`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
    await waitFor(async () => !(await ready()), 30_000, `private Redis on port ${port} did not stop`);
  };

  const discard = (): Promise<void> => stop().catch(() => void child?.kill('SIGKILL'));
  return startedServer({ url: `redis://127.0.0.1:${port}`, port, ready, start, stop, discard, unregister });
}
