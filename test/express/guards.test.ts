/**
 * Guards around authentication: throttling of addresses that keep failing it, tokens issued in
 * the future, and `Cache-Control: no-store` on every API response.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from 'punctual/testing';
import { AUDIENCE, ISSUER, SECRET, bearer, harness, notifyTrigger, type Harness } from './helpers.js';

const T = '/api/scheduler/triggers';

describe('failed authentication per address', () => {
  const clock = new TestClock(Date.UTC(2030, 0, 1));
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ clock, start: false, app: { authFailureLimit: { limit: 3, windowMs: 60_000, now: () => clock.now() } } });
  });
  afterAll(() => h.close());

  it('counts only 401s, then answers 429 to the address (good tokens too) until the window ends', async () => {
    for (let i = 0; i < 10; i++) await h.http.get(T).set(h.a).expect(200); // successes never count
    for (let i = 0; i < 3; i++) await h.http.get(T).set(bearer('not-a-jwt')).expect(401);
    const limited = await h.http.get(T).set(bearer('not-a-jwt')).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('60');
    await h.http.get(T).set(h.a).expect(429);
    // Health is not behind it: probes are not signed in (503 here: the scheduler is not started).
    expect((await h.http.get('/api/scheduler/health')).status).toBe(503);
    clock.jumpTo(clock.now() + 60_000);
    await h.http.get(T).set(h.a).expect(200);
    await h.http.get(T).set(bearer('not-a-jwt')).expect(401);
  });
});

describe('tokens issued in the future', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ start: false });
  });
  afterAll(() => h.close());

  const signed = (iatOffsetSec: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'user-a', iss: ISSUER, aud: AUDIENCE, iat: now + iatOffsetSec, exp: now + 7_200 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
  };

  it('refuses an iat beyond the clock tolerance (5 s) and accepts one within it', async () => {
    const res = await h.http.get(T).set(bearer(await signed(3_600))).expect(401);
    expect(res.body.error.message).toMatch(/"iat" is in the future/);
    await h.http.get(T).set(bearer(await signed(3))).expect(200);
  });
});

describe('Cache-Control', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ start: false });
  });
  afterAll(() => h.close());

  it('is no-store on every API answer that can carry owner data, errors included', async () => {
    const created = await h.http.post(T).set(h.a).send(notifyTrigger('cached')).expect(201);
    const answers = [
      created,
      await h.http.get(T).set(h.a).expect(200),
      await h.http.get(`${T}/${created.body.id}`).set(h.a).expect(200),
      await h.http.get(`${T}/${created.body.id}/history`).set(h.a).expect(200),
      await h.http.get(`${T}/nope`).set(h.a).expect(404),
      await h.http.get(T).expect(401),
      await h.http.get('/api/scheduler/audit').set(h.admin).expect(200),
    ];
    for (const res of answers) expect(res.headers['cache-control']).toBe('no-store');
  });
});
