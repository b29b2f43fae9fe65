/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), mounted in the
 * Express example behind its JWT sign-in: from the list to a trigger, pause with a reason, run
 * now and watch the run move live, read a failure's error, keyboard navigation and axe-core, and
 * a scoped user who cannot open another owner's trigger by URL. Saves a screenshot of each page:
 * to docs/images/ for docs/dashboard.md when DASHBOARD_SCREENSHOTS=docs, else to a temp folder, so
 * a test run leaves the checkout as it found it.
 *
 * Without chromium the suite skips with a message; under CI=true it fails instead.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { z } from 'zod';
import { createScheduler, systemClock, type Clock, type Scheduler } from 'punctual';
import { createApp } from '../../examples/express/app.js';
import { silentLogger } from '../../examples/express/logger.js';
import { ADMIN_ROLE, AUDIENCE, ISSUER, SECRET, token } from '../express/helpers.js';
import { chromiumPath, launch, seriousViolations, type Browser } from './browser.js';

const executable = chromiumPath();
const TO_DOCS = process.env.DASHBOARD_SCREENSHOTS === 'docs';
let SHOTS = new URL('../../docs/images/', import.meta.url).pathname;

if (!executable) {
  const message = 'dashboard browser tests need Debian\'s chromium (apt-get install -y chromium)';
  if (process.env.CI === 'true') {
    it('has chromium under CI', () => {
      throw new Error(`${message}: .ci/run installs it; it is missing`);
    });
  } else {
    console.warn(`SKIPPED: ${message}; it is not on PATH`);
  }
}

/** Lets the test decide when a running report finishes, so the live updates can be watched. */
let release: () => void = () => {};
const handlers = {
  report: {
    schema: z.object({ to: z.string() }),
    run: async (_payload: { to: string }, ctx: { progress(percent: number, note?: string): Promise<void> }) => {
      await ctx.progress(40, 'rendering pages');
      await new Promise<void>((resolve) => (release = resolve));
      await ctx.progress(100, 'sent');
      return 'sent';
    },
  },
  upload: {
    schema: z.object({}),
    retry: { maxRetries: 0 },
    run: async () => {
      throw new Error('storage answered 503 Service Unavailable');
    },
  },
};

/**
 * Real time, moved to the day before Europe's spring change (2027-03-28), so the Upcoming page
 * shows a daylight-saving shift; runs still start and finish in real time.
 */
const OFFSET = Date.parse('2027-03-27T12:00:00Z') - Date.now();
const clock: Clock = { now: () => Date.now() + OFFSET, setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms), clearTimeout: (handle) => systemClock.clearTimeout(handle) };
/** A two-hour blackout that day: two fires of hourly-sync are skipped. */
const MAINTENANCE = { windows: [{ start: '2027-03-27T18:00:00Z', end: '2027-03-27T20:00:00Z' }] };

describe.skipIf(!executable)('dashboard in chromium', () => {
  let scheduler: Scheduler;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let base: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    scheduler = createScheduler({ handlers, clock, calendars: { maintenance: MAINTENANCE }, metricsIntervalMs: 0 }) as unknown as Scheduler;
    await scheduler.start();
    const create = async (name: string, owner: string, taskType: 'report' | 'upload', schedule: object, extra: object = {}) =>
      (ids[name] = (await scheduler.triggers.create({ name, owner, taskType, payload: taskType === 'report' ? { to: 'ops@example.com' } : {}, schedule, ...extra } as never)).id);
    await create('weekday-report', 'alice', 'report', { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' });
    await create('nightly-upload', 'alice', 'upload', { cron: '30 2 * * *', timezone: 'America/New_York' });
    await create('hourly-sync', 'bob', 'report', { every: '1h' }, { timing: { calendars: ['maintenance'] } });
    await create('paris-backup', 'bob', 'report', { cron: '0 2 * * *', timezone: 'Europe/Paris' });
    await create('quarterly-close', 'bob', 'report', { manual: true });
    const app = createApp({ scheduler, auth: { secret: SECRET, issuer: ISSUER, audience: AUDIENCE }, rateLimit: false, logger: silentLogger, dashboard: { clock } });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/scheduler`;
    if (TO_DOCS) mkdirSync(SHOTS, { recursive: true });
    else SHOTS = `${mkdtempSync(join(tmpdir(), 'punctual-shots-'))}/`;
    browser = await launch(executable!);
    page = await browser.context.newPage();
  }, 90_000);

  afterAll(async () => {
    release();
    await browser?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await scheduler?.stop({ graceMs: 1_000 });
    if (!TO_DOCS) rmSync(SHOTS, { recursive: true, force: true });
  });

  async function signIn(sub: string, roles: string[] = []): Promise<void> {
    await browser.context.clearCookies();
    await page.goto(`${base}/`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.getByLabel('Access token (JWT)').fill(await token(sub, { roles }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Triggers' }).waitFor();
  }

  const shot = (name: string) => page.screenshot({ path: `${SHOTS}dashboard-${name}.png`, fullPage: true });

  it('an admin goes from the list to a trigger, pauses it with a reason, runs it and watches the run live', async () => {
    await signIn('root', [ADMIN_ROLE]);
    const rows = page.locator('table.grid tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    await page.getByRole('link', { name: 'weekday-report' }).click();
    await page.getByRole('heading', { level: 1, name: /weekday-report/ }).waitFor();
    expect(await page.locator('.schedule-text').textContent()).toBe('at 09:00 on Monday to Friday, Europe/Paris');
    expect(await page.locator('.next-fires li').count()).toBe(10);

    await page.getByLabel('Pause reason').fill('supplier migration');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.getByText('Paused: supplier migration').waitFor();
    await page.getByRole('cell', { name: 'trigger.pause' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('cell', { name: 'trigger.resume' }).waitFor();

    await page.getByRole('button', { name: 'Run now' }).click();
    // The handler reports 40% and waits: the row shows it without a reload.
    const row = page.locator('tr[data-run]').first();
    await row.getByText('40%').waitFor();
    await row.getByText('running').waitFor();
    await shot('trigger');
    release();
    await row.getByText('completed').waitFor();
    await row.getByText('100%').waitFor();
    expect(await page.evaluate<number>("performance.getEntriesByType('navigation').length")).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows a failure\'s error, on the trigger and in the runs filtered by status', async () => {
    await page.goto(`${base}/#/trigger/${ids['nightly-upload']}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.locator('tr[data-run] .run-error').getByText('Error: storage answered 503 Service Unavailable').waitFor();
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('tr[data-run]').count()).toBe(1);
    await page.locator('.run-error').getByText('storage answered 503').waitFor();
    await shot('runs');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('the triggers, upcoming and health pages pass axe-core and can be reached by keyboard alone', async () => {
    await page.goto(`${base}/#/triggers`);
    await page.locator('.strip li').first().waitFor();
    await shot('triggers');
    expect(await seriousViolations(page)).toEqual([]);
    // From the top of the page forward to Upcoming; then from its content back to Health.
    for (const [name, key] of [['Upcoming', 'Tab'], ['Health', 'Shift+Tab']] as const) {
      // Tab until the navigation link has focus, then Enter: focus moves to the new page.
      for (let i = 0; i < 15 && (await page.evaluate<string>('document.activeElement?.textContent')) !== name; i++) await page.keyboard.press(key);
      expect(await page.evaluate<string>('document.activeElement?.textContent')).toBe(name);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name }).waitFor();
      expect(await page.evaluate<string>('document.activeElement?.id')).toBe('main');
      await page.locator(name === 'Upcoming' ? '.timeline' : '.cards').waitFor();
      if (name === 'Upcoming') {
        await page.getByText('DST shift +01:00 → +02:00').waitFor();
        expect(await page.getByText('skipped by calendar').count()).toBe(2);
      }
      await shot(name.toLowerCase());
      expect(await seriousViolations(page)).toEqual([]);
    }
    expect(await page.getByText('runs waiting').count()).toBe(1);
    expect(browser.problems).toEqual([]);
  });

  it('a scoped user sees only their triggers and cannot open another owner\'s trigger by URL', async () => {
    await signIn('bob');
    await expect.poll(() => page.locator('table.grid tbody tr').count()).toBe(3);
    expect(await page.getByRole('link', { name: 'weekday-report' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Health' }).count()).toBe(0);
    await page.goto(`${base}/#/trigger/${ids['weekday-report']}`);
    await page.getByRole('alert').filter({ hasText: 'not found' }).waitFor();
    expect(await page.getByText('supplier migration').count()).toBe(0);
    await page.goto(`${base}/#/trigger/${ids['hourly-sync']}`);
    await page.getByRole('heading', { level: 1, name: /hourly-sync/ }).waitFor();
    expect(await page.locator('.schedule-text').textContent()).toBe('every hour');
  });
});
