/**
 * The Lua scripts of the Redis lock store. Each runs atomically on the server. A lock is a
 * hash at `KEYS[1]` (`token`, `owner`, `fence`, `expiresAt` in epoch ms of the caller's
 * clock) with a PX expiry on the server clock; the fence counter at `KEYS[2]` never expires.
 */

/**
 * KEYS: lock, fence. ARGV: token, owner, ttlMs, nowMs, expiresAtMs.
 * Free when the key is gone (the server expired it) or its `expiresAt` is at or before `now`.
 * Returns the new fence, or nil when held.
 */
export const ACQUIRE = `
local expires = redis.call('HGET', KEYS[1], 'expiresAt')
if expires and tonumber(expires) > tonumber(ARGV[4]) then return nil end
local fence = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'owner', ARGV[2], 'fence', fence, 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return fence
`;

/**
 * KEYS: lock. ARGV: token, ttlMs, nowMs, expiresAtMs.
 * Extends a lock held under `token` and not expired at `now`. Returns { owner, fence } or nil.
 */
export const RENEW = `
local held = redis.call('HMGET', KEYS[1], 'token', 'owner', 'fence', 'expiresAt')
if held[1] ~= ARGV[1] or tonumber(held[4]) <= tonumber(ARGV[3]) then return nil end
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { held[2], held[3] }
`;

/** KEYS: lock. ARGV: token. Deletes the lock if `token` holds it; returns 1 or 0. */
export const RELEASE = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
