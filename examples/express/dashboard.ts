/**
 * The dashboard (`punctual/dashboard`) mounted in the example under `/admin/scheduler`, behind
 * the same JWT check as the API: admins see and act on everything, a user on their own
 * triggers. Browsers cannot attach a bearer header to a page load or to a live event stream, so a
 * small sign-in form puts the token in an HttpOnly, SameSite=Strict cookie scoped to the path;
 * API clients may still send `Authorization: Bearer`.
 */
import type { IncomingMessage } from 'node:http';
import express, { type Router } from 'express';
import type { Clock, Scheduler } from 'punctual';
import { createDashboard, type DashboardHandler } from 'punctual/dashboard';
import { createVerifier, type AuthOptions, type Principal } from './auth.js';

export interface DashboardMountOptions {
  /** Where to mount it. Default `/admin/scheduler`. */
  path?: string;
  /** Look only, for everyone. Default false. */
  readOnly?: boolean;
  /** Signs the CSRF tokens; give every instance the same one. Default: random per process. */
  csrfSecret?: string;
  /** The scheduler's clock, when it was given one: the Upcoming window starts at its now. */
  clock?: Clock;
}

export const DASHBOARD_COOKIE = 'punctual_dashboard';
const TOKEN = /^[A-Za-z0-9._~+/=-]{1,4096}$/;

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === DASHBOARD_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

const SIGN_IN = (path: string, message = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: scheduler dashboard</title></head>
<body><main><h1>Scheduler dashboard</h1>${message ? `<p role="alert">${message}</p>` : ''}
<form method="post" action="${path}/login"><label>Access token (JWT) <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form></main></body></html>`;

/**
 * An Express router holding the sign-in form and the dashboard.
 * @example app.use(dashboardRouter(scheduler, authOptions));
 */
export function dashboardRouter(scheduler: Scheduler, auth: AuthOptions, options: DashboardMountOptions = {}): Router & { dashboard: DashboardHandler } {
  const path = options.path ?? '/admin/scheduler';
  const verify = createVerifier(auth);
  const principals = new WeakMap<IncomingMessage, Principal>();
  const dashboard = createDashboard({
    scheduler,
    basePath: path,
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.csrfSecret ? { csrfSecret: options.csrfSecret } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    authorize: (req) => {
      const principal = principals.get(req);
      if (!principal) return null;
      return principal.admin ? { actor: principal.sub, canAct: true } : { actor: principal.sub, owner: principal.sub, canAct: true };
    },
  });

  const router = express.Router();
  const secureCookie = (req: express.Request) => (req.secure ? '; Secure' : '');
  router.get(`${path}/login`, (_req, res) => {
    res.type('html').send(SIGN_IN(path));
  });
  router.post(`${path}/login`, express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
    // Another site must not sign a visitor in under its own token.
    // Sec-Fetch-Site when the browser sends it (Origin is `null` under a no-referrer policy), else Origin.
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    const foreign = site !== undefined ? site !== 'same-origin' : origin !== undefined && origin !== `${req.protocol}://${req.headers.host}`;
    if (foreign) return void res.status(403).type('html').send(SIGN_IN(path, 'Sign in from this page.'));
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const ok = TOKEN.test(token) && (await verify(token).then(() => true, () => false));
    if (!ok) return void res.status(401).type('html').send(SIGN_IN(path, 'That token is not valid.'));
    res.setHeader('Set-Cookie', `${DASHBOARD_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=${path}${secureCookie(req)}`);
    res.redirect(303, `${path}/`);
  });
  router.use(path, async (req, res, next) => {
    const token = bearerToken(req) ?? cookieToken(req);
    const principal = token ? await verify(token).catch(() => undefined) : undefined;
    if (!principal) {
      if (req.method === 'GET' && (req.path === '/' || req.path === '')) return res.redirect(303, `${path}/login`);
      return void res.status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'Sign in at the dashboard login page, or send a bearer token' } });
    }
    principals.set(req, principal);
    dashboard(req, res, next);
  });
  return Object.assign(router, { dashboard });
}
