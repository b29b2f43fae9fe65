/**
 * The dashboard's reads: schedules in words, the Upcoming timeline's DST and calendar marks,
 * cursor paging and search, and the size budget of the built assets.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSchedule } from 'punctual';
import { ASSET_BUDGET_BYTES, ASSET_BUDGET_GZIP_BYTES, describeSchedule } from 'punctual/dashboard';
import { as, dashboardHarness, T0, type DashboardHarness } from './helpers.js';

let h: DashboardHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('schedules in words', () => {
  const now = new Date(T0);
  it.each([
    [{ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, 'at 09:00 on Monday to Friday, Europe/Paris'],
    [{ cron: '30 2 * * *' }, 'at 02:30, UTC'],
    [{ cron: '0 8,17 * * 1,3,5', timezone: 'America/New_York' }, 'at 08:00 and 17:00 on Monday, Wednesday and Friday, America/New_York'],
    [{ cron: '*/15 * * * *' }, 'every 15 minutes, UTC'],
    [{ cron: '0 0 1 1,7 *' }, 'at 00:00 on day 1 of the month in January and July, UTC'],
    [{ cron: '0 0 9 * * 0' }, 'at 09:00 on Sunday, UTC'],
    [{ cron: '0 */2 * * *' }, 'cron "0 */2 * * *", UTC'],
    [{ every: '1h' }, 'every hour'],
    [{ every: '90s' }, 'every 90 seconds'],
    [{ at: '2026-05-01T10:00:00Z' }, 'once, at 2026-05-01T10:00:00.000Z'],
    [{ manual: true }, 'only when run by hand'],
    [{ event: 'user.signup' }, 'when the event "user.signup" is published'],
  ] as const)('%j reads "%s"', (input, words) => {
    expect(describeSchedule(parseSchedule(input as never, now))).toBe(words);
  });
});

describe('upcoming', () => {
  it('marks the daylight-saving shift of a zoned cron and the slots a calendar skips, within the window', async () => {
    h = await dashboardHarness({ calendars: { freeze: { windows: [{ start: '2026-03-28T18:00:00Z', end: '2026-03-28T20:00:00Z' }] } } });
    const paris = await h.scheduler.triggers.create({ name: 'paris', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { cron: '0 2,22 * * *', timezone: 'Europe/Paris' } });
    await h.scheduler.triggers.create({ name: 'hourly', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { cron: '0 * * * *' }, timing: { calendars: ['freeze'] } });
    await h.scheduler.triggers.create({ name: 'paused', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { every: '5m' }, paused: true });
    const body = (await h.http.get('/dash/api/upcoming?hours=24').set(as('root', 'admin')).expect(200)).body;
    expect(body.from).toBe('2026-03-28T12:00:00.000Z');
    expect(body.to).toBe('2026-03-29T12:00:00.000Z');
    const parisFires = body.fires.filter((f: { triggerId: string }) => f.triggerId === paris.id);
    // 22:00 +01:00 on the 28th; the 02:00 of the 29th does not exist and fires at 03:00 +02:00.
    expect(parisFires).toEqual([
      expect.objectContaining({ at: '2026-03-28T21:00:00.000Z', local: '2026-03-28 22:00 +01:00' }),
      expect.objectContaining({ at: '2026-03-29T01:00:00.000Z', local: '2026-03-29 03:00 +02:00', dstShift: { from: '+01:00', to: '+02:00' } }),
    ]);
    expect(parisFires[0].dstShift).toBeUndefined();
    const hourly = body.fires.filter((f: { triggerName: string }) => f.triggerName === 'hourly');
    expect(hourly.filter((f: { skipped?: string }) => f.skipped).map((f: { at: string }) => f.at)).toEqual(['2026-03-28T18:00:00.000Z', '2026-03-28T19:00:00.000Z']);
    expect(hourly.filter((f: { skipped?: string }) => !f.skipped)).toHaveLength(21); // 13:00 to 11:00 next day, less two
    expect(body.fires.some((f: { triggerName: string }) => f.triggerName === 'paused')).toBe(false);
    expect((await h.http.get('/dash/api/upcoming?hours=0').set(as('root', 'admin')).expect(400)).body.error.issues[0].path).toBe('hours');
  });
});

describe('paging and search', () => {
  it('pages with opaque cursors, searches names, and rejects a cursor it did not give out', async () => {
    h = await dashboardHarness();
    for (let i = 0; i < 7; i++) {
      await h.scheduler.triggers.create({ name: `job-${i}`, owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { manual: true } });
    }
    await h.scheduler.triggers.create({ name: 'cleanup', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { manual: true } });
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await h.http.get(`/dash/api/triggers?limit=3&cursor=${cursor}`).set(as('alice')).expect(200);
      seen.push(...page.body.items.map((t) => t.name));
      cursor = page.body.nextCursor;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['cleanup', 'job-0', 'job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6']);
    const search = await h.http.get('/dash/api/triggers?q=JOB-&limit=5').set(as('alice')).expect(200);
    expect(search.body.items).toHaveLength(5);
    expect(search.body.nextCursor).not.toBeNull();
    const rest = await h.http.get(`/dash/api/triggers?q=JOB-&limit=5&cursor=${search.body.nextCursor}`).set(as('alice')).expect(200);
    expect(rest.body).toMatchObject({ items: [expect.anything(), expect.anything()], nextCursor: null });
    expect((await h.http.get('/dash/api/triggers?cursor=abc').set(as('alice')).expect(400)).body.error.issues[0].path).toBe('cursor');
    expect((await h.http.get('/dash/api/triggers?q=job&cursor=abc').set(as('alice')).expect(400)).body.error.issues[0].path).toBe('cursor');
    expect((await h.http.get('/dash/api/triggers?limit=1000').set(as('alice')).expect(400)).body.error.issues[0].path).toBe('limit');
    expect((await h.http.get('/dash/api/runs?status=lost').set(as('alice')).expect(400)).body.error.issues[0].path).toBe('status');
  });
});

describe('runs', () => {
  it('filters by status, task type, owner and scheduled time range', async () => {
    h = await dashboardHarness();
    const report = await h.scheduler.triggers.create({ name: 'r', owner: 'alice', taskType: 'report', payload: { to: 'x' }, schedule: { manual: true } });
    const flaky = await h.scheduler.triggers.create({ name: 'f', owner: 'bob', taskType: 'flaky', payload: {}, schedule: { manual: true } });
    const early = await h.scheduler.triggers.runNow(report.id);
    await h.clock.advance(3_600_000);
    const late = await h.scheduler.triggers.runNow(report.id);
    const other = await h.scheduler.triggers.runNow(flaky.id);
    const ids = async (query: string) => (await h!.http.get(`/dash/api/runs?${query}`).set(as('root', 'admin')).expect(200)).body.items.map((r: { id: string }) => r.id).sort();
    expect(await ids('taskType=report')).toEqual([early.id, late.id].sort());
    expect(await ids('owner=bob')).toEqual([other.id]);
    expect(await ids('status=pending&taskType=flaky')).toEqual([other.id]);
    expect(await ids(`from=${new Date(T0 + 1_000).toISOString()}`)).toEqual([late.id, other.id].sort());
    expect(await ids(`to=${new Date(T0 + 1_000).toISOString()}`)).toEqual([early.id]);
    expect(await ids('status=failed')).toEqual([]);
    expect((await h.http.get('/dash/api/runs?from=yesterday').set(as('root', 'admin')).expect(400)).body.error.issues[0].path).toBe('from');
  });
});

describe('assets', () => {
  it(`stay within the budget: ${ASSET_BUDGET_BYTES / 1024} KiB minified, ${ASSET_BUDGET_GZIP_BYTES / 1024} KiB gzipped`, () => {
    const files = ['app.js', 'app.css'].map((name) => readFileSync(new URL(`../../src/dashboard/assets/${name}`, import.meta.url)));
    const raw = files.reduce((sum, file) => sum + file.length, 0);
    const gzipped = files.reduce((sum, file) => sum + gzipSync(file, { level: 9 }).length, 0);
    expect(raw).toBeLessThanOrEqual(ASSET_BUDGET_BYTES);
    expect(gzipped).toBeLessThanOrEqual(ASSET_BUDGET_GZIP_BYTES);
    expect(raw).toBeGreaterThan(10_000); // preact and the pages are in it: the bundle is real
  });
});
