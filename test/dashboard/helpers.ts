/** Shared set-up of the dashboard tests: a scheduler on the memory store, the dashboard on a real port. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { z } from 'zod';
import { createScheduler, type CalendarDefinition, type Scheduler } from 'punctual';
import { createDashboard, type DashboardAccess, type DashboardHandler, type DashboardOptions } from 'punctual/dashboard';
import { TestClock } from 'punctual/testing';

export const T0 = Date.parse('2026-03-28T12:00:00Z');

/**
 * The host's authentication in these tests: `X-User` names the caller, `X-Role: admin` makes them
 * an admin, `X-Role: viewer` lets them look only. No `X-User`: refused.
 */
export function headerAuth(req: IncomingMessage): DashboardAccess | null {
  const user = req.headers['x-user'];
  if (typeof user !== 'string') return null;
  const role = req.headers['x-role'];
  if (role === 'admin') return { actor: user, canAct: true };
  return { actor: user, owner: user, canAct: role !== 'viewer' };
}

export interface DashboardHarness {
  scheduler: Scheduler;
  clock: TestClock;
  dashboard: DashboardHandler;
  server: Server;
  url: string;
  http: ReturnType<typeof request>;
  /** The CSRF token the page gives `user` (with `role`). */
  csrf(user: string, role?: string): Promise<string>;
  close(): Promise<void>;
}

export const handlers = {
  report: { schema: z.object({ to: z.string() }), run: async () => 'sent' },
  flaky: {
    schema: z.object({}),
    retry: { maxRetries: 0 },
    run: async () => {
      throw new Error('upstream answered 502');
    },
  },
};

export async function dashboardHarness(options: Partial<Omit<DashboardOptions, 'scheduler'>> & { calendars?: Record<string, CalendarDefinition> } = {}): Promise<DashboardHarness> {
  const clock = new TestClock(T0);
  const { calendars, ...dashboardOptions } = options;
  const scheduler = createScheduler({ handlers, clock, metricsIntervalMs: 0, ...(calendars ? { calendars } : {}) }) as unknown as Scheduler;
  const dashboard = createDashboard({ scheduler, authorize: headerAuth, clock, basePath: '/dash', ...dashboardOptions });
  const server = createServer((req, res) => dashboard(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const http = request(server);
  return {
    scheduler,
    clock,
    dashboard,
    server,
    url,
    http,
    async csrf(user, role) {
      const page = await http.get('/dash/').set({ 'X-User': user, ...(role ? { 'X-Role': role } : {}) }).expect(200);
      const settings = /data-settings="([^"]*)"/.exec(page.text)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      return JSON.parse(settings).csrf as string;
    },
    async close() {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await scheduler.stop({ graceMs: 0 });
    },
  };
}

export const as = (user: string, role?: string) => ({ 'X-User': user, ...(role ? { 'X-Role': role } : {}) });
