import type { Request, RequestHandler, Response } from 'express';
import type { ValidationIssue } from 'punctual';
import { HttpError, invalid } from './errors.js';
import { principalOf } from './auth.js';

/**
 * A query parameter's type: an integer, a string of 1-200 characters, a paging cursor (1-1,200
 * characters, checked by punctual), or one of fixed values.
 */
export type ParamType = 'int' | 'string' | 'cursor' | readonly string[];

/** The value a parameter of type `T` parses to. */
type ParamValue<T> = T extends 'int' ? number : T extends 'string' | 'cursor' ? string : T extends readonly (infer V)[] ? V : never;

/** The parsed query of a spec: each parameter optional, typed by its spec (`status: ['a', 'b']` gives `'a' | 'b'`). */
export type ParsedQuery<Spec> = { -readonly [K in keyof Spec]?: ParamValue<Spec[K]> };

/**
 * Parses query parameters against a spec: unknown, repeated or malformed ones are a 400 naming
 * the parameter. Ranges (limit 1..500) and cursors are left to punctual, which names them too.
 */
export function parseQuery<const Spec extends Record<string, ParamType>>(query: Request['query'], spec: Spec): ParsedQuery<Spec> {
  const issues: ValidationIssue[] = [];
  // Own properties only: a parameter named `constructor` or `__proto__` must not find
  // Object.prototype's members, in the spec or in the result.
  const out: Record<string, string | number> = Object.create(null) as Record<string, string | number>;
  for (const [name, raw] of Object.entries(query)) {
    const type: ParamType | undefined = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (type === undefined) {
      issues.push({ path: name, message: `is not a known parameter; use ${Object.keys(spec).join(', ')}` });
    } else if (typeof raw !== 'string') {
      issues.push({ path: name, message: 'must be given once' });
    } else if (type === 'int') {
      if (/^\d{1,9}$/.test(raw)) out[name] = Number(raw);
      else issues.push({ path: name, message: `must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 50))}` });
    } else if (type === 'string' || type === 'cursor') {
      const max = type === 'cursor' ? 1_200 : 200;
      if (raw.length >= 1 && raw.length <= max) out[name] = raw;
      else issues.push({ path: name, message: `must be 1-${max} characters` });
    } else if (type.includes(raw)) {
      out[name] = raw;
    } else {
      issues.push({ path: name, message: `must be one of ${type.join(', ')}, got ${JSON.stringify(raw.slice(0, 50))}` });
    }
  }
  if (issues.length > 0) throw invalid('Invalid query', issues);
  return out as ParsedQuery<Spec>;
}

/**
 * The owner a list is filtered by. Admins may pass any `owner` (or none: everyone's);
 * a non-admin may only name themselves, anything else is a 400 (their view is scoped anyway).
 */
export function ownerFilter(res: Response, requested: string | number | undefined): string | undefined {
  const { sub, admin } = principalOf(res);
  if (requested === undefined) return undefined;
  const owner = String(requested);
  if (!admin && owner !== sub) throw invalid('Invalid query', [{ path: 'owner', message: 'only admins may list another owner\'s data' }]);
  return owner;
}

/**
 * A small JSON object body with only the given keys; no body at all counts as `{}`. Routes
 * that take no body pass no keys, so any field is refused rather than ignored.
 */
export function objectBody(body: unknown, allowed: readonly string[], subject: string): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(subject, [{ path: 'body', message: 'must be a JSON object' }]);
  const record = body as Record<string, unknown>;
  const issues = Object.keys(record)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ path: key, message: allowed.length ? `is not a known field; use ${allowed.join(', ')}` : 'is not accepted: this route takes no body' }));
  if (issues.length > 0) throw invalid(subject, issues);
  return record;
}

/** 415 for a body that is not JSON, so it is never silently ignored. */
export const jsonOnly: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (hasBody && !req.is('application/json')) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be JSON (Content-Type: application/json)');
  }
  next();
};
