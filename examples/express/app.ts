import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator, type Store as RateLimitStore } from 'express-rate-limit';
import helmet from 'helmet';
import type { Scheduler, SchemaMap } from 'punctual';
import { authenticate, type AuthOptions, type Principal } from './auth.js';
import { dashboardRouter, type DashboardMountOptions } from './dashboard.js';
import { errorHandler, notFoundHandler, sendError } from './errors.js';
import { authFailureLimiter, noStore, type AuthFailureLimit } from './guards.js';
import { jsonOnly } from './input.js';
import { jsonLogger, type Logger } from './logger.js';
import { createMetrics, type AppMetrics } from './metrics.js';
import { runRoutes } from './routes/runs.js';
import { auditRoute, healthRoute, metricsRoute } from './routes/system.js';
import { triggerRoutes } from './routes/triggers.js';
import { triggerActionRoutes } from './routes/trigger-actions.js';
import { jobRoutes } from './routes/jobs.js';

export interface AppOptions<S extends SchemaMap = SchemaMap> {
  /** The scheduler to expose. The app never starts or stops it. */
  scheduler: Scheduler<S>;
  /** Bearer token verification (HS256 secret or JWKS URL, issuer, audience, admin role). */
  auth: AuthOptions;
  /** Origins allowed to call the API from a browser. Default: none (no CORS headers). */
  cors?: { origins: readonly string[] };
  /**
   * Requests per window per token subject (per IP for the unauthenticated health and metrics).
   * Default 300 a minute, in memory: give a shared `store` (e.g. rate-limit-redis) behind a load
   * balancer. `false` turns it off.
   */
  rateLimit?: false | { windowMs?: number; limit?: number; store?: RateLimitStore };
  /** Failed authentications (401s) per client address: default 50 per 15 minutes, then 429. `false` turns it off. */
  authFailureLimit?: false | AuthFailureLimit;
  /** Largest accepted JSON body. Default `64kb`. */
  bodyLimit?: string | number;
  /** Express `trust proxy`: set it to your proxy hops so `req.ip` (and the rate limit) sees clients. Default false. */
  trustProxy?: boolean | number | string;
  /** `/metrics`: `token` requires `Authorization: Bearer <token>`; `defaultMetrics` adds process metrics. */
  metrics?: { token?: string; defaultMetrics?: boolean };
  /** Structured logger. Default: JSON lines on stdout/stderr. */
  logger?: Logger;
  /** The dashboard (punctual/dashboard) behind the same tokens, at `/admin/scheduler` by default; `false` leaves it out. */
  dashboard?: false | DashboardMountOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The scheduler's REST API as an Express app: mount it in a host app (`host.use(createApp(...))`)
 * or listen on it. Routes are in routes/, documented in docs/openapi.yaml.
 * @example
 * const app = createApp({ scheduler, auth: { secret, issuer: 'https://id.example.com', audience: 'scheduler' } });
 * app.listen(3000);
 */
export function createApp<S extends SchemaMap>(options: AppOptions<S>): Express {
  // Bodies arrive as untyped JSON that punctual validates at run time, so the routes use the
  // untyped view; a Scheduler<S> is not assignable to Scheduler<SchemaMap> without this cast.
  const scheduler = options.scheduler as unknown as Scheduler;
  const logger = options.logger ?? jsonLogger;
  const metrics = createMetrics(scheduler, { defaultMetrics: options.metrics?.defaultMetrics ?? false });
  scheduler.once('scheduler:stopped', () => metrics.close());

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(requestContext(logger, metrics));
  app.use(helmet());
  if (options.cors) {
    app.use(
      cors({
        origin: [...options.cors.origins],
        methods: ['GET', 'POST', 'PUT', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposedHeaders: ['X-Request-Id', 'Location', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
        maxAge: 600,
      }),
    );
  }
  const limiter = rateLimiter(options.rateLimit);

  const router = express.Router();
  healthRoute(router, scheduler, limiter);
  metricsRoute(router, metrics.handler, options.metrics?.token, limiter);
  // Everything below needs a valid token; bodies are parsed only after it was checked. Owner
  // data is never cached, and addresses that keep failing authentication are throttled first.
  const authFailures = authFailureLimiter(options.authFailureLimit);
  router.use('/api/scheduler', noStore, authFailures, authenticate(options.auth), limiter, jsonOnly, express.json({ limit: options.bodyLimit ?? '64kb' }));
  triggerRoutes(router, scheduler);
  triggerActionRoutes(router, scheduler);
  jobRoutes(router, scheduler);
  runRoutes(router, scheduler);
  auditRoute(router, scheduler);
  if (options.dashboard !== false) {
    const mounted = dashboardRouter(scheduler, options.auth, options.dashboard ?? {});
    app.locals.dashboard = mounted.dashboard; // server.ts ends its live streams on shutdown
    app.use(mounted);
  }
  app.use(router);

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}

/** Request id (a sane incoming `X-Request-Id`, else a new UUID), one access log line, HTTP metrics. */
function requestContext(logger: Logger, metrics: AppMetrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The route template, never the raw path: ids would make the label set unbounded.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      metrics.observeRequest(req.method, route, res.statusCode, seconds);
      const principal = res.locals.principal as Principal | undefined;
      logger(res.statusCode >= 500 ? 'warn' : 'info', 'request', {
        requestId,
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1_000_000) / 1_000,
        ...(principal ? { sub: principal.sub } : {}),
      });
    });
    next();
  };
}

/** Keyed by the token subject when there is one, else by client IP (IPv6 by /56 subnet). */
function rateLimiter(config: AppOptions['rateLimit']): RequestHandler {
  if (config === false) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: config?.windowMs ?? 60_000,
    limit: config?.limit ?? 300,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...(config?.store ? { store: config.store } : {}),
    keyGenerator: (req, res) => {
      const principal = res.locals.principal as Principal | undefined;
      return principal ? `sub:${principal.sub}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: (_req, res) => sendError(res, 429, 'RATE_LIMITED', 'Too many requests; retry after the time in the Retry-After header'),
  });
}
