import type { Redis } from 'ioredis';
import { ConfigurationError, StoreError } from '../../errors.js';
import type { AcquireRequest, Lock, LockStore } from '../types.js';
import { ACQUIRE, RELEASE, RENEW } from './scripts.js';

/** Options of {@link redisLockStore}. */
export interface RedisLockStoreOptions {
  /** Prepended to every key. Default `punctual:lock:`. */
  prefix?: string;
  /** Whether `close()` quits the client. Default false: the host owns it. */
  ownsClient?: boolean;
}

/** The commands this store defines on the client (`defineCommand`: EVALSHA, EVAL on a script cache miss). */
interface LockCommands {
  punctualLockAcquire(lock: string, fence: string, token: string, owner: string, ttlMs: number, nowMs: number, expiresAtMs: number): Promise<number | null>;
  punctualLockRenew(lock: string, token: string, ttlMs: number, nowMs: number, expiresAtMs: number): Promise<[string, string] | null>;
  punctualLockRelease(lock: string, token: string): Promise<number>;
}

/**
 * A {@link LockStore} on Redis. Acquire, renew and release are Lua scripts, so each is atomic;
 * renew and release act only for the holder's token; a counter per resource (`<prefix>fence:`,
 * never expiring) gives fences that grow across releases and expiries.
 *
 * Two clocks: a lock's key carries a PX expiry of `ttlMs` on the Redis server's clock, so an
 * abandoned lock vanishes by itself; and it stores `expiresAt` on the caller's clock (the `now`
 * handed in + `ttlMs`), compared with the next caller's `now` as every punctual lock store
 * does. A lock is free as soon as either says so. Keep instance clocks in sync (NTP) as for
 * any lease-based lock. Keys: `<prefix>held:{<resource>}` and `<prefix>fence:{<resource>}` (one
 * hash slot per resource, so the scripts also run on Redis Cluster).
 * @example
 * const redis = new Redis(process.env.REDIS_URL);
 * const scheduler = createScheduler({ store: postgresStore(pool), lockStore: redisLockStore(redis), handlers });
 */
export class RedisLockStore implements LockStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly ownsClient: boolean;
  private readonly commands: LockCommands;
  /** close() quit the client this store owns: it cannot be used again. */
  private quit = false;

  constructor(
    private readonly redis: Redis,
    options: RedisLockStoreOptions = {},
  ) {
    if (typeof redis?.defineCommand !== 'function') {
      throw new ConfigurationError('redisLockStore needs an ioredis client (an object with defineCommand())');
    }
    const prefix = options.prefix ?? 'punctual:lock:';
    if (typeof prefix !== 'string' || prefix.includes('{') || prefix.includes('}')) {
      throw new ConfigurationError(`redisLockStore: prefix must be a string without "{" or "}", got ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix;
    this.ownsClient = options.ownsClient ?? false;
    redis.defineCommand('punctualLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('punctualLockRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('punctualLockRelease', { numberOfKeys: 1, lua: RELEASE });
    this.commands = redis as unknown as LockCommands;
  }

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const ttl = ttlOf(request.ttlMs);
    const now = request.now.getTime();
    const fence = await this.call('acquire', () =>
      this.commands.punctualLockAcquire(this.key('held', request.resource), this.key('fence', request.resource), request.token, request.owner, ttl, now, now + ttl),
    );
    if (fence === null) return null;
    return { resource: request.resource, owner: request.owner, token: request.token, fence: Number(fence), expiresAt: new Date(now + ttl) };
  }

  async renew(lock: Lock, ttlMs: number, now: Date): Promise<Lock | null> {
    const ttl = ttlOf(ttlMs);
    const at = now.getTime();
    const held = await this.call('renew', () => this.commands.punctualLockRenew(this.key('held', lock.resource), lock.token, ttl, at, at + ttl));
    if (!held) return null;
    return { resource: lock.resource, owner: held[0], token: lock.token, fence: Number(held[1]), expiresAt: new Date(at + ttl) };
  }

  async release(lock: Lock): Promise<boolean> {
    const deleted = await this.call('release', () => this.commands.punctualLockRelease(this.key('held', lock.resource), lock.token));
    return deleted === 1;
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.quit) return;
    this.quit = true;
    await this.redis.quit();
  }

  private key(kind: 'held' | 'fence', resource: string): string {
    return `${this.prefix}${kind}:{${resource}}`;
  }

  private async call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    if (this.quit) throw new StoreError(`Redis lock store: ${operation} after close(), which quit its client (ownsClient); create a new lock store to start again`);
    try {
      return await command();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new StoreError(`Redis lock store: ${operation} failed: ${message}`, { cause: error });
    }
  }
}

/** PX needs a positive integer. */
function ttlOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

/**
 * Creates a Redis {@link LockStore} over an ioredis client.
 * @example
 * import { Redis } from 'ioredis';
 * const lockStore = redisLockStore(new Redis(process.env.REDIS_URL), { ownsClient: true });
 */
export function redisLockStore(redis: Redis, options: RedisLockStoreOptions = {}): LockStore {
  return new RedisLockStore(redis, options);
}
