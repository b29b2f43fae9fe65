import { z } from 'zod';
import { NonRetryableError, defineHandler, type RunsApi } from 'punctual';
import type { Logger } from './logger.js';

export interface HandlerOptions {
  /**
   * Origins (`https://hooks.example.com`) that `http-request` tasks may call. Any other URL is
   * refused when the trigger is created: users must not make the server call its own network
   * (cloud metadata endpoints, admin ports). Default: none, so `http-request` refuses every URL.
   */
  allowedHttpOrigins?: readonly string[];
  logger: Logger;
  /** The scheduler, for the report task (handlers are built before it exists). */
  scheduler: () => RunHistory;
}

/** What the report task needs of the scheduler: any `Scheduler<S>` fits. */
export interface RunHistory {
  forOwner(owner: string): { runs: RunsApi };
}

const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'timed_out', 'skipped'] as const;

/**
 * The example's task types:
 * - `http-request`: calls a URL on an allowed origin with a timeout; 4xx answers fail for good, 5xx are retried.
 * - `notify`: an e-mail-like notification (logged here; plug your mail provider in).
 * - `report`: counts the owner's runs by status over a time window.
 */
export function createHandlers(options: HandlerOptions) {
  const allowed = new Set((options.allowedHttpOrigins ?? []).map((o) => new URL(o).origin));
  const { logger } = options;

  return {
    'http-request': defineHandler({
      schema: z.strictObject({
        url: z.url().refine((u) => allowed.has(originOf(u)), { message: 'origin is not in the allowed list (HTTP_TASK_ALLOWED_ORIGINS)' }),
        method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('GET'),
        headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(1_000)).optional(),
        body: z.string().max(16_384).optional(),
        timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
      }),
      run: async (payload, ctx) => {
        const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(payload.timeoutMs)]);
        const response = await fetch(payload.url, {
          method: payload.method,
          ...(payload.headers ? { headers: payload.headers } : {}),
          ...(payload.body !== undefined ? { body: payload.body } : {}),
          redirect: 'error', // a redirect could leave the allowed origins
          signal,
        });
        await response.body?.cancel();
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          throw new NonRetryableError(`${payload.method} ${payload.url} answered ${response.status}`);
        }
        if (!response.ok) throw new Error(`${payload.method} ${payload.url} answered ${response.status}`);
        return { status: response.status };
      },
      timeoutMs: 120_000,
      concurrency: 20,
    }),

    notify: defineHandler({
      schema: z.strictObject({
        to: z.email(),
        subject: z.string().min(1).max(200),
        text: z.string().max(10_000).default(''),
      }),
      run: async (payload, ctx) => {
        // A real service calls its mail provider here, with ctx.runId as the idempotency key.
        logger('info', 'notification sent', { to: payload.to, subject: payload.subject, runId: ctx.runId, owner: ctx.owner });
        return { deliveredTo: payload.to };
      },
      timeoutMs: 30_000,
    }),

    report: defineHandler({
      schema: z.strictObject({ windowHours: z.number().int().min(1).max(720).default(24) }),
      run: async (payload, ctx) => {
        const runs = options.scheduler().forOwner(ctx.owner).runs;
        const to = ctx.scheduledFor;
        const from = new Date(to.getTime() - payload.windowHours * 3_600_000);
        const byStatus: Record<string, number> = {};
        for (const status of RUN_STATUSES) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          byStatus[status] = await countAll((cursor) => runs.list({ from, to, status, limit: 500, ...(cursor ? { cursor } : {}) }), ctx.signal);
        }
        await ctx.progress(100, 'counted');
        return { from: from.toISOString(), to: to.toISOString(), byStatus };
      },
      timeoutMs: 60_000,
    }),
  };
}

/** Counts the items of a listing by walking its pages (listings have no totals: they page by cursor). */
async function countAll(list: (cursor?: string) => ReturnType<RunsApi['list']>, signal: AbortSignal): Promise<number> {
  let count = 0;
  for (let cursor: string | undefined; ; ) {
    if (signal.aborted) throw signal.reason;
    const page = await list(cursor);
    count += page.items.length;
    if (page.nextCursor === null) return count;
    cursor = page.nextCursor;
  }
}

/** Never throws: zod runs refinements even after the URL check failed. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
