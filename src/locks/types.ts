/** A held lock. `token` proves ownership; `fence` increases every time the resource changes hands. */
export interface Lock {
  resource: string;
  owner: string;
  token: string;
  /** Monotonic per resource: a write carrying a lower fence than the latest must be refused. */
  fence: number;
  expiresAt: Date;
}

export interface AcquireRequest {
  resource: string;
  /** Who asks (the instance id), for diagnostics. */
  owner: string;
  /** Unique per acquisition; renew and release must present it. */
  token: string;
  ttlMs: number;
  now: Date;
}

/**
 * A lease-based lock store with fencing. Locks expire after their TTL unless renewed; an
 * expired lock may be taken by anyone, even if it is still stored. The engine hands `now` in.
 */
export interface LockStore {
  readonly kind: string;
  /** Take the lock if it is free or expired at `now`. Null when someone else holds it. */
  acquire(request: AcquireRequest): Promise<Lock | null>;
  /** Extend a lock still held under `lock.token` and not expired at `now`. Null when lost. */
  renew(lock: Lock, ttlMs: number, now: Date): Promise<Lock | null>;
  /** Release if still held under the token. Returns whether it was. */
  release(lock: Lock): Promise<boolean>;
  /** Release resources; closes connections only if the store created them. */
  close(): Promise<void>;
}
