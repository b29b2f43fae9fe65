/**
 * Bearer token checks: every way a token can be wrong answers 401 with the error shape, and
 * the algorithms are pinned (HS256 for a secret, RS256/ES256 for a JWKS).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from 'punctual/testing';
import { createApp } from '../../examples/express/app.js';
import { createVerifier } from '../../examples/express/auth.js';
import { silentLogger } from '../../examples/express/logger.js';
import { AUDIENCE, ISSUER, SECRET, bearer, harness, testScheduler, token, type Harness } from './helpers.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = () => ({ sub: 'user-a', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3_600 });

describe('bearer tokens (HS256 secret)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ start: false });
  });
  afterAll(() => h.close());

  const list = (headers: Record<string, string>) => h.http.get('/api/scheduler/triggers').set(headers);

  it('accepts a valid token', async () => {
    await list(h.a).expect(200);
  });

  it.each([
    ['no header', async () => ({}), /bearer token is required/],
    ['another scheme', async () => ({ Authorization: 'Basic dXNlcjpwYXNz' }), /must be "Bearer <token>"/],
    ['garbage', async () => bearer('not-a-jwt'), /malformed/],
    ['an expired token', async () => bearer(await token('user-a', { exp: Math.floor(Date.now() / 1000) - 60 })), /expired/],
    ['a wrong audience', async () => bearer(await token('user-a', { audience: 'another-api' })), /"aud"/],
    ['a wrong issuer', async () => bearer(await token('user-a', { issuer: 'https://evil.test' })), /"iss"/],
    ['a forged signature', async () => bearer(await token('user-a', { secret: 'another-secret-of-thirty-two-bytes!!' })), /signature/],
    ['alg none', async () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`), /algorithm|malformed/],
    ['HS512 with the right secret', async () => {
      const t = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET));
      return bearer(t);
    }, /algorithm/],
    ['an RS256 token', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return bearer(await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey));
    }, /algorithm/],
    ['no subject', async () => bearer(await token(undefined)), /"sub"/],
    ['a subject with spaces', async () => bearer(await token('user a')), /subject/],
    ['no expiry', async () => {
      const t = await new SignJWT({ sub: 'user-a', iss: ISSUER, aud: AUDIENCE }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
      return bearer(t);
    }, /"exp"/],
  ])('refuses %s with 401', async (_label, headers, message) => {
    const res = await list(await headers()).expect(401);
    expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', requestId: res.headers['x-request-id'] });
    expect(res.body.error.message).toMatch(message);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('checks the token before the route exists, so unknown API paths answer 401 too', async () => {
    await h.http.get('/api/scheduler/nothing-here').expect(401);
    await h.http.get('/api/scheduler/nothing-here').set(h.a).expect(404);
  });

  it('reads the admin role from a `role` string or a `roles` array', async () => {
    await h.http.get('/api/scheduler/audit').set(h.admin).expect(200);
    await h.http.get('/api/scheduler/audit').set(bearer(await token('root', { claims: { role: 'scheduler-admin' } }))).expect(200);
    await h.http.get('/api/scheduler/audit').set(bearer(await token('user-a', { roles: ['reader'] }))).expect(403);
  });
});

describe('expiry follows the injected clock', () => {
  it('accepts a token until its exp (+5 s tolerance), then refuses it', async () => {
    const clock = new TestClock(Date.UTC(2030, 0, 1));
    const h = await harness({ clock, start: false });
    try {
      const t = bearer(await token('user-a', { now: clock.now(), exp: clock.now() / 1000 + 60 }));
      await h.http.get('/api/scheduler/triggers').set(t).expect(200);
      clock.jumpTo(clock.now() + 64_000);
      await h.http.get('/api/scheduler/triggers').set(t).expect(200);
      clock.jumpTo(clock.now() + 2_000);
      const res = await h.http.get('/api/scheduler/triggers').set(t).expect(401);
      expect(res.body.error.message).toMatch(/expired/);
    } finally {
      await h.close();
    }
  });
});

describe('bearer tokens (JWKS)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let sign: (kid: string) => Promise<string>;
  const scheduler = testScheduler();

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    sign = (kid) => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    jwks.closeAllConnections();
    await new Promise((resolve) => jwks.close(resolve));
    await scheduler.stop();
  });

  const app = (url: string) => createApp({ scheduler, auth: { jwksUrl: url, issuer: ISSUER, audience: AUDIENCE }, logger: silentLogger });

  it('accepts a token signed by a published key and refuses others', async () => {
    const api = request(app(jwksUrl));
    await api.get('/api/scheduler/triggers').set(bearer(await sign('k1'))).expect(200);
    const unknownKid = await api.get('/api/scheduler/triggers').set(bearer(await sign('k2'))).expect(401);
    expect(unknownKid.body.error.message).toMatch(/key/);
    // Algorithm confusion: an HS256 token is refused even though a key set is configured.
    await api.get('/api/scheduler/triggers').set(bearer(await token('user-a'))).expect(401);
  });

  it('answers 503 (not 401) when the key set cannot be fetched', async () => {
    const api = request(app('http://127.0.0.1:9/jwks.json'));
    const res = await api.get('/api/scheduler/triggers').set(bearer(await sign('k1'))).expect(503);
    expect(res.body.error.code).toBe('UNAVAILABLE');
  });
});

describe('auth settings', () => {
  it('refuses unusable settings when the app is built', () => {
    expect(() => createVerifier({ secret: 'short', issuer: ISSUER, audience: AUDIENCE })).toThrow(/32 bytes/);
    expect(() => createVerifier({ secret: SECRET, jwksUrl: 'https://id.test/jwks', issuer: ISSUER, audience: AUDIENCE })).toThrow(/exactly one/);
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE })).toThrow(/exactly one/);
    expect(() => createVerifier({ secret: SECRET, issuer: '', audience: AUDIENCE })).toThrow(/issuer/);
  });
});
