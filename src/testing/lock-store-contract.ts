import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcquireRequest, Lock, LockStore } from '../locks/types.js';
import { fixtureDate as at, fixtureId } from './fixtures.js';

/** Makes a fresh, empty lock store for one test; `cleanup` (if any) runs after the test. */
export type LockStoreFactory = () => Promise<{ store: LockStore; cleanup?: () => Promise<void> }>;

const TTL = 10_000;

/**
 * Registers the vitest suite every {@link LockStore} must pass. Each test gets a fresh lock
 * store from `factory` and runs `cleanup` afterwards. Time is passed in (`now`), never read.
 * @example
 * // test/locks/my-lock-store.test.ts
 * lockStoreContract('my-lock-store', async () => {
 *   const client = await connect();
 *   return { store: myLockStore({ client }), cleanup: () => client.flushAndQuit() };
 * });
 */
export function lockStoreContract(name: string, factory: LockStoreFactory): void {
  describe(`LockStore contract: ${name}`, () => {
    let store: LockStore;
    let cleanup: (() => Promise<void>) | undefined;
    let resource: string;

    beforeEach(async () => {
      const made = await factory();
      store = made.store;
      cleanup = made.cleanup;
      resource = fixtureId('lock');
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    const acquire = (owner: string, now: Date, extra: Partial<AcquireRequest> = {}): Promise<Lock | null> =>
      store.acquire({ resource, owner, token: fixtureId(`token-${owner}`), ttlMs: TTL, now, ...extra });

    const held = async (owner: string, now: Date, extra: Partial<AcquireRequest> = {}): Promise<Lock> => {
      const lock = await acquire(owner, now, extra);
      if (!lock) throw new Error(`expected ${owner} to acquire ${resource}`);
      return lock;
    };
    const ctx: LockCase = {
      get store() {
        return store;
      },
      get resource() {
        return resource;
      },
      acquire,
      held,
    };
    acquireCases(ctx);
    handOverCases(ctx);
    contentionCases(ctx);
  });
}

/** The lock store of the running test, its resource, and helpers acquiring it. */
interface LockCase {
  readonly store: LockStore;
  readonly resource: string;
  acquire(owner: string, now: Date, extra?: Partial<AcquireRequest>): Promise<Lock | null>;
  held(owner: string, now: Date, extra?: Partial<AcquireRequest>): Promise<Lock>;
}

/** Acquiring: free, held, independent and expired resources. */
function acquireCases(ctx: LockCase): void {
  let store: LockStore;
  let resource: string;
  beforeEach(() => {
    ({ store, resource } = ctx);
  });
  const { acquire, held } = ctx;

  it('has a kind', () => {
    expect(typeof store.kind).toBe('string');
  });

  it('acquires a free resource', async () => {
    const lock = await held('instance-a', at(0), { token: 'token-1' });
    expect(lock).toMatchObject({ resource, owner: 'instance-a', token: 'token-1' });
    expect(lock.expiresAt.getTime()).toBe(at(TTL).getTime());
    expect(Number.isFinite(lock.fence)).toBe(true);
  });

  it('refuses a held resource, even to the same owner', async () => {
    await held('instance-a', at(0));
    expect(await acquire('instance-b', at(TTL - 1))).toBeNull();
    expect(await acquire('instance-a', at(1))).toBeNull();
  });

  it('keeps resources independent', async () => {
    const first = await held('instance-a', at(0));
    const other = await store.acquire({ resource: fixtureId('lock'), owner: 'instance-b', token: 'token-b', ttlMs: TTL, now: at(0) });
    expect(other).not.toBeNull();
    expect(await store.release(first)).toBe(true);
  });

  it('lets anyone take an expired lock, with a higher fence', async () => {
    const first = await held('instance-a', at(0));
    const second = await held('instance-b', at(TTL + 1));
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(second.expiresAt.getTime()).toBe(at(2 * TTL + 1).getTime());
  });
}

/** Renewing and releasing under the holder token, and the next holder. */
function handOverCases(ctx: LockCase): void {
  let store: LockStore;
  let resource: string;
  beforeEach(() => {
    ({ store, resource } = ctx);
  });
  const { acquire, held } = ctx;

  it('renews only under the holder token', async () => {
    const lock = await held('instance-a', at(0));
    expect(await store.renew({ ...lock, token: 'wrong-token' }, TTL, at(5_000))).toBeNull();
    const renewed = await store.renew(lock, TTL, at(5_000));
    expect(renewed).toMatchObject({ resource, owner: 'instance-a', token: lock.token, fence: lock.fence });
    expect(renewed?.expiresAt.getTime()).toBe(at(5_000 + TTL).getTime());
    expect(await acquire('instance-b', at(TTL + 1))).toBeNull();
    expect(await acquire('instance-b', at(5_000 + TTL + 1))).not.toBeNull();
  });

  it('refuses to renew an expired lock, taken over or not', async () => {
    const lock = await held('instance-a', at(0));
    expect(await store.renew(lock, TTL, at(TTL + 1))).toBeNull();
    const other = await held('instance-b', at(TTL + 2));
    expect(await store.renew(lock, TTL, at(TTL + 3))).toBeNull();
    expect(await store.renew(other, TTL, at(TTL + 3))).not.toBeNull();
  });

  it('releases only under the holder token', async () => {
    const lock = await held('instance-a', at(0));
    expect(await store.release({ ...lock, token: 'wrong-token' })).toBe(false);
    expect(await acquire('instance-b', at(1))).toBeNull();
    expect(await store.release(lock)).toBe(true);
    expect(await store.release(lock)).toBe(false);
  });

  it('lets another owner acquire right after a release, with a higher fence', async () => {
    const first = await held('instance-a', at(0));
    expect(await store.release(first)).toBe(true);
    const second = await held('instance-b', at(1));
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await store.renew(first, TTL, at(2))).toBeNull();
  });

  it('does not let a stale holder release the new holder', async () => {
    const stale = await held('instance-a', at(0));
    const current = await held('instance-b', at(TTL + 1));
    expect(await store.release(stale)).toBe(false);
    expect(await acquire('instance-c', at(TTL + 2))).toBeNull();
    expect(await store.renew(current, TTL, at(TTL + 2))).not.toBeNull();
  });
}

/** Many callers at once, and fences across hand-overs. */
function contentionCases(ctx: LockCase): void {
  let store: LockStore;
  beforeEach(() => {
    store = ctx.store;
  });
  const { acquire, held } = ctx;

  it('gives a contended resource to exactly one of many concurrent callers', async () => {
    const attempts = Array.from({ length: 20 }, (_, i) => acquire(`instance-${i}`, at(0)));
    const winners = (await Promise.all(attempts)).filter((lock): lock is Lock => lock !== null);
    expect(winners).toHaveLength(1);
  });

  it('increases fences strictly as the resource changes hands', async () => {
    const fences: number[] = [];
    let now = 0;
    for (const owner of ['instance-a', 'instance-b', 'instance-c', 'instance-a']) {
      const lock = await held(owner, at(now));
      fences.push(lock.fence);
      if (owner === 'instance-b') now += TTL + 1;
      else {
        expect(await store.release(lock)).toBe(true);
        now += 1;
      }
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1] as number);
  });
}
