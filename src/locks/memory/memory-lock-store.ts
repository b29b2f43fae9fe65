import type { AcquireRequest, Lock, LockStore } from '../types.js';

interface HeldLock {
  owner: string;
  token: string;
  /** Epoch ms. */
  expiresAt: number;
  fence: number;
}

/**
 * A {@link LockStore} in process memory, for tests and single-process services. Share one
 * instance between schedulers to make them contend for the same locks. Each operation runs
 * synchronously, so it is atomic with respect to every other. Fences count per resource and
 * keep counting across releases and expiries.
 * @example
 * const scheduler = createScheduler({ store: memoryStore(), lockStore: memoryLockStore(), handlers });
 */
export class MemoryLockStore implements LockStore {
  readonly kind = 'memory';
  private readonly locks = new Map<string, HeldLock>();
  private readonly fences = new Map<string, number>();

  async acquire(request: AcquireRequest): Promise<Lock | null> {
    const now = request.now.getTime();
    const current = this.locks.get(request.resource);
    if (current && current.expiresAt > now) return null;
    const fence = (this.fences.get(request.resource) ?? 0) + 1;
    this.fences.set(request.resource, fence);
    const held: HeldLock = { owner: request.owner, token: request.token, expiresAt: now + request.ttlMs, fence };
    this.locks.set(request.resource, held);
    return toLock(request.resource, held);
  }

  async renew(lock: Lock, ttlMs: number, now: Date): Promise<Lock | null> {
    const current = this.locks.get(lock.resource);
    const at = now.getTime();
    if (!current || current.token !== lock.token || current.expiresAt <= at) return null;
    const renewed: HeldLock = { ...current, expiresAt: at + ttlMs };
    this.locks.set(lock.resource, renewed);
    return toLock(lock.resource, renewed);
  }

  async release(lock: Lock): Promise<boolean> {
    const current = this.locks.get(lock.resource);
    if (!current || current.token !== lock.token) return false;
    this.locks.delete(lock.resource);
    return true;
  }

  async close(): Promise<void> {}
}

function toLock(resource: string, held: HeldLock): Lock {
  return { resource, owner: held.owner, token: held.token, fence: held.fence, expiresAt: new Date(held.expiresAt) };
}

/**
 * Creates an in-memory {@link LockStore}.
 * @example
 * const locks = memoryLockStore();
 */
export function memoryLockStore(): LockStore {
  return new MemoryLockStore();
}
