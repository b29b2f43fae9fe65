/**
 * `createDashboard`: a node:http request handler serving the dashboard page, its assets, its
 * JSON reads, its actions and a live event stream, over the view the host's `authorize` grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock } from '../clock.js';
import type { Scheduler } from '../scheduler.js';
import { RUN_ACTIONS, TRIGGER_ACTIONS, type Action } from './actions.js';
import { loadAssets } from './assets.js';
import { CsrfTokens } from './csrf.js';
import { HttpError, readJson, send, sendError, sendJson } from './http.js';
import { LiveHub, MAX_STREAMS } from './live.js';
import { checkDashboardOptions, type DashboardOptions } from './options.js';
import { renderPage } from './page.js';
import * as reads from './reads.js';
import { viewFor, type View } from './view.js';

/** A node:http handler (`(req, res)`), also an Express/Connect middleware (`(req, res, next)`). */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Ends the open live streams (call it before closing the HTTP server). */
  close(): void;
}

/** What every request of one dashboard shares. */
interface Context {
  options: DashboardOptions;
  scheduler: Scheduler;
  csrf: CsrfTokens;
  live: LiveHub;
  readOnly: boolean;
  now(): Date;
}

type Read = (ctx: Context, view: View, query: URLSearchParams, ids: string[]) => Promise<unknown>;

const READS: [RegExp, Read][] = [
  [/^\/api\/triggers$/, (_c, view, q) => reads.triggerList(view, q)],
  [/^\/api\/triggers\/([^/]+)$/, (_c, view, _q, [id]) => reads.triggerDetail(view, id!)],
  [/^\/api\/triggers\/([^/]+)\/runs$/, (_c, view, q, [id]) => reads.triggerRuns(view, id!, q)],
  [/^\/api\/triggers\/([^/]+)\/audit$/, (_c, view, q, [id]) => reads.triggerAudit(view, id!, q)],
  [/^\/api\/runs$/, (_c, view, q) => reads.runList(view, q)],
  [/^\/api\/runs\/([^/]+)$/, (_c, view, _q, [id]) => reads.runDetail(view, id!)],
  [/^\/api\/upcoming$/, (c, view, q) => reads.upcomingFires(view, q, c.now())],
  [/^\/api\/health$/, (c, view) => reads.healthSnapshot(view, c.scheduler, c.now())],
  [/^\/api\/session$/, async (c, view) => ({ actor: view.actor, owner: view.owner ?? null, canAct: view.canAct, readOnly: c.readOnly })],
];

const ACTIONS: [RegExp, Record<string, Action>][] = [
  [/^\/api\/triggers\/([^/]+)\/([a-z]+)$/, TRIGGER_ACTIONS],
  [/^\/api\/runs\/([^/]+)\/([a-z]+)$/, RUN_ACTIONS],
];

/**
 * Creates the dashboard handler. Mount it under a path of your HTTP server, behind your own
 * authentication; `authorize(req)` then says what each request may see and do.
 * @example
 * const dashboard = createDashboard({
 *   scheduler,
 *   basePath: '/admin/scheduler',
 *   authorize: (req) => (isAdmin(req) ? { actor: userOf(req), canAct: true } : null),
 * });
 * http.createServer((req, res) => (req.url?.startsWith('/admin/scheduler') ? dashboard(req, res) : app(req, res)));
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  checkDashboardOptions(options);
  const clock = options.clock ?? systemClock;
  const ctx: Context = {
    options,
    scheduler: options.scheduler,
    csrf: new CsrfTokens(options.csrfSecret),
    live: new LiveHub(options.scheduler, clock),
    readOnly: options.readOnly === true,
    now: () => new Date(clock.now()),
  };
  const handler = ((req, res) => {
    serve(ctx, req, res).catch((error: unknown) => sendError(res, error));
  }) as DashboardHandler;
  handler.close = () => ctx.live.close();
  return handler;
}

/** The path inside the dashboard: `basePath` removed when the host did not strip it (node:http). */
function innerPath(options: DashboardOptions, url: URL): string {
  let path = url.pathname;
  const base = options.basePath;
  if (base && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length);
  return path === '' ? '/' : path;
}

async function serve(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const path = innerPath(ctx.options, url);

  const assetName = /^\/assets\/([a-z]+\.(?:js|css))$/.exec(path)?.[1];
  if (assetName !== undefined && req.method === 'GET') {
    const asset = loadAssets().get(assetName);
    if (!asset) throw new HttpError(404, 'NOT_FOUND', 'No such asset');
    return send(res, 200, asset.body, asset.type, { 'Cache-Control': url.searchParams.get('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache' });
  }

  const access = await ctx.options.authorize(req);
  if (!access) throw new HttpError(403, 'FORBIDDEN', 'You may not see this dashboard');
  const view = viewFor(ctx.scheduler, access, ctx.readOnly);

  if (path === '/' && req.method === 'GET') {
    const base = ctx.options.basePath ?? (req as { baseUrl?: string }).baseUrl ?? '';
    const settings = { base, title: ctx.options.title ?? 'punctual', csrf: ctx.csrf.issue(view.actor), actor: view.actor, owner: view.owner, canAct: view.canAct, readOnly: ctx.readOnly };
    return send(res, 200, renderPage(settings, loadAssets()), 'text/html; charset=utf-8');
  }
  if (path === '/api/events' && req.method === 'GET') {
    if (ctx.live.size >= MAX_STREAMS) throw new HttpError(503, 'TOO_MANY_STREAMS', 'Too many live streams are open; try again later');
    return ctx.live.open(res, view.owner);
  }
  if (req.method === 'GET') {
    for (const [pattern, read] of READS) {
      const match = pattern.exec(path);
      if (match) return sendJson(res, 200, await read(ctx, view, url.searchParams, match.slice(1).map(decodeSegment)));
    }
  }
  if (req.method === 'POST') {
    for (const [pattern, table] of ACTIONS) {
      const match = pattern.exec(path);
      if (match && Object.hasOwn(table, match[2]!)) {
        checkMayAct(req, view, ctx.readOnly, ctx.csrf);
        const body = await readJson(req);
        return sendJson(res, 200, await table[match[2]!]!(view, decodeSegment(match[1]!), body));
      }
    }
  }
  throw new HttpError(404, 'NOT_FOUND', `No dashboard route ${req.method} ${path}`);
}

/** Actions need the right to act, a same-origin request and the page's CSRF token. */
function checkMayAct(req: IncomingMessage, view: View, readOnly: boolean, csrf: CsrfTokens): void {
  if (readOnly) throw new HttpError(403, 'READ_ONLY', 'This dashboard is read-only');
  if (!view.canAct) throw new HttpError(403, 'FORBIDDEN', 'You may look but not act');
  const crossSite = new HttpError(403, 'CSRF', 'Actions must come from the dashboard page itself');
  // Sec-Fetch-Site, when the browser sends it, is the answer (Origin may be `null` under the
  // page's no-referrer policy); older clients are judged by Origin.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined ? site !== 'same-origin' : req.headers.origin !== undefined && hostOf(req.headers.origin) !== req.headers.host) throw crossSite;
  const token = req.headers['x-csrf-token'];
  if (!csrf.verify(view.actor, typeof token === 'string' ? token : undefined)) throw new HttpError(403, 'CSRF', 'Missing or invalid X-CSRF-Token: reload the dashboard page');
}

/** A path segment (an id); malformed percent-encoding is the client's error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'VALIDATION', `Malformed path segment ${JSON.stringify(segment.slice(0, 100))}`);
  }
}

/** The host of an Origin header; null for `null` or a malformed one. */
function hostOf(origin: string): string | null {
  try {
    return origin === 'null' ? null : new URL(origin).host;
  } catch {
    return null;
  }
}
