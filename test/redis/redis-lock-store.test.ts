import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisLockStore, redisLockStore } from '../../src/locks/redis/index.js';
import { lockStoreContract } from '../../src/testing/lock-store-contract.js';
import { connectRedis, deletePrefix, randomPrefix } from './harness.js';

const redis = await connectRedis();

afterAll(async () => {
  await redis?.quit();
});

/** Real milliseconds: Redis expires keys on its own clock, which no test clock can move. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!redis)('Redis lock store', () => {
  const client = redis as NonNullable<typeof redis>;

  lockStoreContract('redis', async () => {
    const prefix = randomPrefix();
    return { store: redisLockStore(client, { prefix }), cleanup: () => deletePrefix(client, prefix) };
  });

  describe('server-side expiry', () => {
    let prefix: string;
    let store: RedisLockStore;
    beforeEach(() => {
      prefix = randomPrefix();
      store = new RedisLockStore(client, { prefix });
    });
    afterEach(() => deletePrefix(client, prefix));

    const request = (owner: string, ttlMs: number) => ({ resource: 'trigger:t1', owner, token: `token-${owner}`, ttlMs, now: new Date() });

    it('keys lock and fence by resource and sets a PX expiry on the lock only', async () => {
      const lock = await store.acquire(request('a', 10_000));
      expect(lock).toMatchObject({ resource: 'trigger:t1', owner: 'a', token: 'token-a', fence: 1 });
      const ttl = await client.pttl(`${prefix}held:{trigger:t1}`);
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
      expect(await client.pttl(`${prefix}fence:{trigger:t1}`)).toBe(-1);
      expect(await client.hgetall(`${prefix}held:{trigger:t1}`)).toMatchObject({ token: 'token-a', owner: 'a', fence: '1' });
    });

    it('frees a lock when Redis expires its key, even at the same caller time', async () => {
      const first = await store.acquire(request('a', 50));
      expect(first).not.toBeNull();
      const sameInstant = first?.expiresAt.getTime() ?? 0;
      // Our clock says the lock is still held (now = acquisition time), Redis says it is gone.
      await pause(120);
      expect(await client.exists(`${prefix}held:{trigger:t1}`)).toBe(0);
      const second = await store.acquire({ ...request('b', 50), now: new Date(sameInstant - 50) });
      expect(second).not.toBeNull();
      expect(second?.fence).toBeGreaterThan(first?.fence ?? Infinity);
      expect(await store.renew(first!, 50, new Date(sameInstant - 40))).toBeNull();
      expect(await store.release(first!)).toBe(false);
    });

    it('keeps fences growing across key expiry and release', async () => {
      const fences: number[] = [];
      for (const owner of ['a', 'b', 'c']) {
        const lock = await store.acquire(request(owner, 30));
        if (!lock) throw new Error(`expected ${owner} to acquire`);
        fences.push(lock.fence);
        await pause(60);
      }
      const last = await store.acquire(request('d', 10_000));
      expect(await store.release(last!)).toBe(true);
      const after = await store.acquire(request('e', 10_000));
      fences.push(last!.fence, after!.fence);
      expect(fences).toEqual([1, 2, 3, 4, 5]);
      expect(await client.get(`${prefix}fence:{trigger:t1}`)).toBe('5');
    });

    it('renews the PX expiry with the lease', async () => {
      const lock = await store.acquire(request('a', 80));
      const renewed = await store.renew(lock!, 10_000, new Date());
      expect(renewed).toMatchObject({ owner: 'a', fence: lock!.fence, token: lock!.token });
      await pause(120);
      expect(await client.pttl(`${prefix}held:{trigger:t1}`)).toBeGreaterThan(9_000);
      expect(await store.acquire(request('b', 1_000))).toBeNull();
    });

    it('wraps Redis failures in StoreError and quits only a client it owns', async () => {
      const own = client.duplicate();
      own.on('error', () => undefined);
      expect(await own.ping()).toBe('PONG');
      const owned = redisLockStore(own, { prefix, ownsClient: true });
      await owned.close();
      await vi.waitFor(() => expect(own.status).toBe('end'), { timeout: 2_000, interval: 10 });
      await expect(owned.acquire(request('a', 1_000))).rejects.toMatchObject({ name: 'StoreError', code: 'STORE' });
      await redisLockStore(client, { prefix }).close();
      expect(await client.ping()).toBe('PONG');
      expect(() => redisLockStore(client, { prefix: 'bad{' })).toThrow(/prefix/);
    });
  });
});
