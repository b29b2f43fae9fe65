import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { ConfigurationError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';

/**
 * What the host's `authorize(req)` hook grants one request. Return `null` to refuse it (the
 * dashboard answers 403 and shows nothing).
 * @example
 * authorize: (req) => {
 *   const user = sessionOf(req);
 *   if (!user) return null;
 *   return user.isAdmin ? { actor: user.id, canAct: true } : { actor: user.id, owner: user.id, canAct: true };
 * }
 */
export interface DashboardAccess {
  /** Who acts, as written in the audit trail (1-200 characters). */
  actor: string;
  /**
   * Serve this request over `scheduler.forOwner(owner)`: only this owner's triggers, runs, audit
   * entries and live events. Omit for the admin view (everything, plus Health).
   */
  owner?: string;
  /** May this request pause, resume, run, cancel, retry, backfill and delete? Default false: look only. */
  canAct?: boolean;
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The scheduler to show. The dashboard never starts or stops it. */
  scheduler: Scheduler;
  /**
   * Decides who may look and who may act, from the request (the host's session, token or
   * headers). Required: a dashboard without it would show everything to everyone.
   */
  authorize: (req: IncomingMessage) => DashboardAccess | null | Promise<DashboardAccess | null>;
  /** Look only, for everyone, whatever `authorize` grants. Default false. */
  readOnly?: boolean;
  /**
   * Where the host mounts the handler, e.g. `/admin/scheduler`. Default: Express's `req.baseUrl`
   * when mounted with `app.use(path, handler)`, else `''`.
   */
  basePath?: string;
  /**
   * Key that signs the CSRF tokens of actions (32+ bytes). Default: random per process, so give
   * the same key to every instance behind one load balancer.
   */
  csrfSecret?: string | Uint8Array;
  /** Time source for the Upcoming window and live heartbeats. Default: the system clock. */
  clock?: Clock;
  /** Title shown in the header. Default `punctual`. */
  title?: string;
}

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

/** Checks the options once, when the dashboard is created. */
export function checkDashboardOptions(options: DashboardOptions): void {
  const problems: string[] = [];
  if (!options || typeof options !== 'object') throw new ConfigurationError('Invalid dashboard options: pass { scheduler, authorize }');
  if (!options.scheduler || typeof options.scheduler.forOwner !== 'function') problems.push('scheduler must be a Scheduler (createScheduler)');
  if (typeof options.authorize !== 'function') problems.push('authorize must be a function (req) => { actor, owner?, canAct? } | null');
  if (options.basePath !== undefined && !BASE_PATH.test(options.basePath)) problems.push(`basePath must look like /admin/scheduler (no trailing slash), got ${JSON.stringify(options.basePath)}`);
  const secret = options.csrfSecret;
  if (secret !== undefined && (typeof secret === 'string' ? Buffer.byteLength(secret) : secret.byteLength) < 32) problems.push('csrfSecret must be at least 32 bytes');
  if (options.title !== undefined && (typeof options.title !== 'string' || options.title.length > 100)) problems.push('title must be a string of at most 100 characters');
  if (problems.length > 0) throw new ConfigurationError(`Invalid dashboard options: ${problems.join('; ')}`);
}
