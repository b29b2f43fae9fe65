/**
 * `createDashboard`: a node:http request handler serving the dashboard page, its assets, its
 * JSON reads, its actions and a live event stream, over the view the host's `authorize` grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock } from '../clock.js';
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

type Read = (view: View, query: URLSearchParams, ids: string[]) => Promise<unknown>;

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
  const { scheduler } = options;
  const clock = options.clock ?? systemClock;
  const csrf = new CsrfTokens(options.csrfSecret);
  const live = new LiveHub(scheduler, clock);
  const readOnly = options.readOnly === true;
  const now = () => new Date(clock.now());

  const READS: [RegExp, Read][] = [
    [/^\/api\/triggers$/, (view, q) => reads.triggerList(view, q)],
    [/^\/api\/triggers\/([^/]+)$/, (view, _q, [id]) => reads.triggerDetail(view, id!)],
    [/^\/api\/triggers\/([^/]+)\/runs$/, (view, q, [id]) => reads.triggerRuns(view, id!, q)],
    [/^\/api\/triggers\/([^/]+)\/audit$/, (view, q, [id]) => reads.triggerAudit(view, id!, q)],
    [/^\/api\/runs$/, (view, q) => reads.runList(view, q)],
    [/^\/api\/runs\/([^/]+)$/, (view, _q, [id]) => reads.runDetail(view, id!)],
    [/^\/api\/upcoming$/, (view, q) => reads.upcomingFires(view, q, now())],
    [/^\/api\/health$/, (view) => reads.healthSnapshot(view, scheduler, now())],
    [/^\/api\/session$/, async (view) => ({ actor: view.actor, owner: view.owner ?? null, canAct: view.canAct, readOnly })],
  ];
  const ACTIONS: [RegExp, Record<string, Action>][] = [
    [/^\/api\/triggers\/([^/]+)\/([a-z]+)$/, TRIGGER_ACTIONS],
    [/^\/api\/runs\/([^/]+)\/([a-z]+)$/, RUN_ACTIONS],
  ];

  const basePathOf = (req: IncomingMessage): string => options.basePath ?? (req as { baseUrl?: string }).baseUrl ?? '';

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const base = basePathOf(req);
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    let path = url.pathname;
    if (options.basePath && (path === options.basePath || path.startsWith(`${options.basePath}/`))) path = path.slice(options.basePath.length);
    if (path === '') path = '/';

    const assetName = /^\/assets\/([a-z]+\.(?:js|css))$/.exec(path)?.[1];
    if (assetName !== undefined && req.method === 'GET') {
      const asset = loadAssets().get(assetName);
      if (!asset) throw new HttpError(404, 'NOT_FOUND', 'No such asset');
      return send(res, 200, asset.body, asset.type, { 'Cache-Control': url.searchParams.get('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache' });
    }

    const access = await options.authorize(req);
    if (!access) throw new HttpError(403, 'FORBIDDEN', 'You may not see this dashboard');
    const view = viewFor(scheduler, access, readOnly);

    if (path === '/' && req.method === 'GET') {
      const settings = { base, title: options.title ?? 'punctual', csrf: csrf.issue(view.actor), actor: view.actor, owner: view.owner, canAct: view.canAct, readOnly };
      return send(res, 200, renderPage(settings, loadAssets()), 'text/html; charset=utf-8');
    }
    if (path === '/api/events' && req.method === 'GET') {
      if (live.size >= MAX_STREAMS) throw new HttpError(503, 'TOO_MANY_STREAMS', 'Too many live streams are open; try again later');
      return live.open(res, view.owner);
    }
    if (req.method === 'GET') {
      for (const [pattern, read] of READS) {
        const match = pattern.exec(path);
        if (match) return sendJson(res, 200, await read(view, url.searchParams, match.slice(1).map(decodeURIComponent)));
      }
    }
    if (req.method === 'POST') {
      for (const [pattern, table] of ACTIONS) {
        const match = pattern.exec(path);
        const action = match ? table[match[2]!] : undefined;
        if (match && action && Object.hasOwn(table, match[2]!)) {
          checkMayAct(req, view, readOnly, csrf);
          const body = await readJson(req);
          return sendJson(res, 200, await action(view, decodeURIComponent(match[1]!), body));
        }
      }
    }
    throw new HttpError(404, 'NOT_FOUND', `No dashboard route ${req.method} ${path}`);
  };

  const handler = ((req, res) => {
    serve(req, res).catch((error: unknown) => sendError(res, error));
  }) as DashboardHandler;
  handler.close = () => live.close();
  return handler;
}

/** Actions need the right to act, a same-origin request and the page's CSRF token. */
function checkMayAct(req: IncomingMessage, view: View, readOnly: boolean, csrf: CsrfTokens): void {
  if (readOnly) throw new HttpError(403, 'READ_ONLY', 'This dashboard is read-only');
  if (!view.canAct) throw new HttpError(403, 'FORBIDDEN', 'You may look but not act');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new HttpError(403, 'CSRF', 'Actions must come from the dashboard page itself');
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      host = '';
    }
    if (host !== req.headers.host) throw new HttpError(403, 'CSRF', 'Actions must come from the dashboard page itself');
  } else if (origin === 'null') {
    throw new HttpError(403, 'CSRF', 'Actions must come from the dashboard page itself');
  }
  const token = req.headers['x-csrf-token'];
  if (!csrf.verify(view.actor, typeof token === 'string' ? token : undefined)) throw new HttpError(403, 'CSRF', 'Missing or invalid X-CSRF-Token: reload the dashboard page');
}
