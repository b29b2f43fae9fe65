import type { RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { sendError } from './errors.js';

/** Failed authentication per client address: only requests answered 401 count. */
export interface AuthFailureLimit {
  /** Window, ms, counted from an address's first failure. Default 900,000 (15 minutes). */
  windowMs?: number;
  /** 401s per address per window; past it the address gets 429s. Default 50. */
  limit?: number;
  /** Time source, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Addresses tracked at most; past it the oldest entries go first (memory stays bounded under a spray of addresses). */
const MAX_ADDRESSES = 100_000;

/**
 * Throttles addresses that keep failing authentication (guessed, forged or expired tokens). It
 * runs before the token check and counts only requests answered 401, so concurrent good
 * requests never count; once an address is over the limit it gets 429 with `Retry-After`, good
 * tokens included, until its window ends. Counts are per process: behind a load balancer each
 * instance counts its own share. Signed-in callers are limited per subject by the rate limiter.
 */
export function authFailureLimiter(config: false | AuthFailureLimit | undefined): RequestHandler {
  if (config === false) return (_req, _res, next) => next();
  const windowMs = config?.windowMs ?? 900_000;
  const limit = config?.limit ?? 50;
  const now = config?.now ?? Date.now;
  const failures = new Map<string, { count: number; resetAt: number }>();
  return (req, res, next) => {
    const key = ipKeyGenerator(req.ip ?? '');
    const t = now();
    const entry = failures.get(key);
    if (entry && entry.resetAt <= t) failures.delete(key);
    else if (entry && entry.count >= limit) {
      res.setHeader('Retry-After', String(Math.ceil((entry.resetAt - t) / 1_000)));
      sendError(res, 429, 'RATE_LIMITED', 'Too many failed sign-ins from this address; retry after the time in the Retry-After header');
      return;
    }
    res.on('finish', () => {
      if (res.statusCode !== 401) return;
      const at = now();
      const current = failures.get(key);
      if (current && current.resetAt > at) current.count++;
      else {
        failures.delete(key);
        if (failures.size >= MAX_ADDRESSES) failures.delete(failures.keys().next().value as string);
        failures.set(key, { count: 1, resetAt: at + windowMs });
      }
    });
    next();
  };
}

/** `Cache-Control: no-store`: owner data must not sit in shared or browser caches. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
