/**
 * The dashboard on a bare node:http server: `npx tsx --tsconfig tsconfig.examples.json examples/dashboard.ts`
 * (run `npm run build:dashboard` once first). HTTP Basic auth stands in for your own sign-in:
 * the user `admin` gets the admin view, any other user name a view of their own triggers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { z } from 'zod';
import { createScheduler } from 'punctual';
import { createDashboard, type DashboardAccess } from 'punctual/dashboard';

const password = process.env.DASHBOARD_PASSWORD ?? randomBytes(12).toString('base64url');

const scheduler = createScheduler({
  handlers: {
    report: {
      schema: z.object({ to: z.string() }),
      run: async (payload, ctx) => {
        await ctx.progress(50, `writing to ${payload.to}`);
      },
    },
  },
});
await scheduler.start();
await scheduler.triggers.create({ name: 'weekday-report', owner: 'alice', taskType: 'report', payload: { to: 'ops@example.com' }, schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } });

/** Your authentication goes here: who is it, what may they see, may they act? */
function authorize(req: IncomingMessage): DashboardAccess | null {
  const [, encoded] = /^Basic (.+)$/.exec(req.headers.authorization ?? '') ?? [];
  if (!encoded) return null;
  const [user = '', given = ''] = Buffer.from(encoded, 'base64').toString().split(':');
  const ok = given.length === password.length && timingSafeEqual(Buffer.from(given), Buffer.from(password));
  if (!ok || !/^[a-z0-9-]{1,50}$/.test(user)) return null;
  return user === 'admin' ? { actor: user, canAct: true } : { actor: user, owner: user, canAct: true };
}

const dashboard = createDashboard({ scheduler, authorize, basePath: '/scheduler' });
const server = createServer((req, res) => {
  if (req.url === '/scheduler' || req.url?.startsWith('/scheduler/')) {
    // Ask the browser for credentials when none (or wrong ones) were sent.
    if (!authorize(req)) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="scheduler"' }).end();
    return dashboard(req, res);
  }
  res.writeHead(404).end();
});
server.listen(3001, '127.0.0.1', () => {
  console.log(`dashboard: http://127.0.0.1:3001/scheduler/ (user admin, password ${password})`);
});
process.once('SIGINT', () => {
  dashboard.close();
  server.close(() => void scheduler.stop().then(() => process.exit(0)));
});
