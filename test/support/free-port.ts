/**
 * Small pieces the private-server helpers share: a free TCP port, polling a readiness check,
 * and the cleanup that runs when the test process exits without removing its servers.
 */
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('the OS gave no port'))));
    });
  });
}

/** Polls `check` every 50 ms until it holds; rejects with `what` after `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await delay(50);
  }
}

const cleanups = new Set<() => void>();
let hooked = false;

/**
 * Runs `cleanup` (synchronous: nothing asynchronous runs at exit) if the process exits while
 * the server is still up, so a failed or interrupted test leaves no server behind. Returns the
 * function that unregisters it, for when the server was removed normally.
 */
export function removeAtExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of cleanups) {
        try {
          c();
        } catch {
          // Best effort: the process is leaving.
        }
      }
    });
  }
  return () => cleanups.delete(cleanup);
}

/** What every private server of the tests offers: a URL, and stop/start as in a real restart. */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  /** Whether the server answers now. */
  ready(): Promise<boolean>;
  /** Stops the server; resolves once it refuses connections. */
  stop(): Promise<void>;
  /** Starts the stopped server on the same port; resolves once it answers. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server for good and removes what it left. Never throws. */
  remove(): Promise<void>;
}

/** The parts that differ between private servers; `discard` stops for good and removes files. */
export interface ServerParts {
  url: string;
  port: number;
  ready(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
  discard(): Promise<void>;
  /** The exit-time cleanup to drop once `discard` ran (from `removeAtExit`). */
  unregister(): void;
}

/**
 * A private server from its parts, started: `restart` is stop then start, `remove` discards it
 * once and never throws. A failed first start removes what it left.
 */
export async function startedServer(parts: ServerParts): Promise<PrivateServer> {
  const { url, port, ready, start, stop } = parts;
  let removed = false;
  const server: PrivateServer = {
    url,
    port,
    ready,
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    remove: async () => {
      if (removed) return;
      removed = true;
      await parts.discard().catch(() => undefined);
      parts.unregister();
    },
  };
  try {
    await start();
  } catch (error) {
    await server.remove();
    throw error;
  }
  return server;
}
