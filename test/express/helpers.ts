/** Shared set-up of the HTTP tests: a scheduler on the memory store, the app on a real port, signed tokens. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import request from 'supertest';
import { createScheduler, type Clock, type Store } from 'punctual';
import { createApp, type AppOptions } from '../../examples/express/app.js';
import { createHandlers, type RunHistory } from '../../examples/express/handlers.js';
import { silentLogger, type Logger } from '../../examples/express/logger.js';

export const SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
export const ISSUER = 'https://id.test';
export const AUDIENCE = 'punctual-api';
export const ADMIN_ROLE = 'scheduler-admin';

export interface TokenOptions {
  roles?: string[];
  claims?: JWTPayload;
  issuer?: string;
  audience?: string;
  /** Seconds since the epoch; default one hour after `now`. */
  exp?: number;
  secret?: string;
  now?: number;
}

/** An HS256 token signed like the identity provider would. */
export async function token(sub: string | undefined, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const jwt = new SignJWT({ ...(options.roles ? { roles: options.roles } : {}), ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(options.exp ?? now + 3_600);
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

export const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

export interface Harness {
  scheduler: ReturnType<typeof testScheduler>;
  server: Server;
  http: ReturnType<typeof request>;
  url: string;
  /** Bearer headers of user-a, user-b and an admin. */
  a: Record<string, string>;
  b: Record<string, string>;
  admin: Record<string, string>;
  close(): Promise<void>;
}

export function testScheduler(options: { clock?: Clock; logger?: Logger; allowedHttpOrigins?: string[]; store?: Store } = {}) {
  const self: { scheduler?: RunHistory } = {};
  const handlers = createHandlers({
    logger: options.logger ?? silentLogger,
    allowedHttpOrigins: options.allowedHttpOrigins ?? [],
    scheduler: () => self.scheduler!,
  });
  const scheduler = createScheduler({ handlers, metricsIntervalMs: 0, ...(options.clock ? { clock: options.clock } : {}), ...(options.store ? { store: options.store } : {}) });
  self.scheduler = scheduler;
  return scheduler;
}

/** A started scheduler behind the app, listening on a free local port. */
export async function harness(
  options: { clock?: Clock; logger?: Logger; allowedHttpOrigins?: string[]; start?: boolean; store?: Store; app?: Partial<Omit<AppOptions, 'scheduler'>> } = {},
): Promise<Harness> {
  const scheduler = testScheduler(options);
  if (options.start !== false) await scheduler.start();
  const app = createApp({
    scheduler,
    auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, ...(options.clock ? { clock: options.clock } : {}) },
    rateLimit: false,
    authFailureLimit: false,
    logger: options.logger ?? silentLogger,
    ...options.app,
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const now = options.clock?.now();
  const [a, b, admin] = await Promise.all([
    token('user-a', { now }),
    token('user-b', { now }),
    token('root', { roles: [ADMIN_ROLE], now }),
  ]);
  return {
    scheduler,
    server,
    http: request(server),
    url: `http://127.0.0.1:${port}`,
    a: bearer(a),
    b: bearer(b),
    admin: bearer(admin),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await scheduler.stop({ graceMs: 1_000 });
    },
  };
}

/** A valid create body; override fields as needed. */
export function notifyTrigger(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, taskType: 'notify', payload: { to: 'ops@example.com', subject: 'hello' }, schedule: { manual: true }, ...extra };
}

/** Resolves with the first event matching `match`, attaching before the action runs. */
export function waitFor<T>(subscribe: (listener: (event: T) => void) => () => void, match: (event: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}
