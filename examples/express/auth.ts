import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { RequestHandler, Response } from 'express';
import type { Clock } from 'punctual';
import { HttpError } from './errors.js';

/**
 * How bearer tokens are verified. Give exactly one of `secret` (HS256) or `jwksUrl` (RS256 or
 * ES256 keys from your identity provider).
 */
export interface AuthOptions {
  /** Shared HS256 secret, at least 32 bytes. */
  secret?: string | Uint8Array;
  /** The identity provider's JWKS endpoint; keys are fetched and cached by `jose`. */
  jwksUrl?: string | URL;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (the token's audience may be an array that contains it). */
  audience: string;
  /** Role that grants the admin view (all owners, the audit trail). Default `scheduler-admin`. */
  adminRole?: string;
  /** Where the roles are in the claims. Default: a `roles` array or a `role` string. */
  rolesOf?: (claims: JWTPayload) => readonly string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, seconds. Default 5. */
  clockToleranceSec?: number;
  /** Time source for expiry checks. Default: the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/** The authenticated caller. `sub` is the owner of everything they create. */
export interface Principal {
  sub: string;
  admin: boolean;
}

/** An owner id as punctual accepts it: 1-200 printable characters, no whitespace. */
const SUBJECT_PATTERN = /^[\p{L}\p{N}\p{P}\p{S}]{1,200}$/u;
const MIN_SECRET_BYTES = 32;

/** The caller of this request, set by {@link authenticate}. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf called on a route without authenticate()');
  return principal;
}

/** Middleware: verifies the bearer token, 401 when missing or invalid, then sets the principal. */
export function authenticate(options: AuthOptions): RequestHandler {
  const verifier = createVerifier(options);
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
    if (!match) throw unauthorized(header ? 'Authorization header must be "Bearer <token>"' : 'A bearer token is required', header ? 'invalid_request' : null);
    res.locals.principal = await verifier(match[1]!);
    next();
  };
}

/** Builds the token check; throws at once on unusable settings, so a bad deploy fails at startup. */
export function createVerifier(options: AuthOptions): (token: string) => Promise<Principal> {
  const { issuer, audience } = options;
  if (typeof issuer !== 'string' || issuer === '' || typeof audience !== 'string' || audience === '') {
    throw new TypeError('auth.issuer and auth.audience are required');
  }
  if ((options.secret === undefined) === (options.jwksUrl === undefined)) {
    throw new TypeError('auth needs exactly one of secret (HS256) or jwksUrl (RS256/ES256)');
  }
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.secret !== undefined) {
    key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
    if (key.byteLength < MIN_SECRET_BYTES) throw new TypeError(`auth.secret must be at least ${MIN_SECRET_BYTES} bytes`);
    algorithms = ['HS256'];
  } else {
    key = createRemoteJWKSet(new URL(options.jwksUrl!), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    algorithms = ['RS256', 'ES256'];
  }
  const adminRole = options.adminRole ?? 'scheduler-admin';
  const rolesOf = options.rolesOf ?? defaultRoles;
  const clockTolerance = options.clockToleranceSec ?? 5;

  return async (token) => {
    let claims: JWTPayload;
    try {
      const verifyOptions = { issuer, audience, algorithms, clockTolerance, requiredClaims: ['sub', 'exp'] };
      const currentDate = options.clock ? new Date(options.clock.now()) : undefined;
      // Two calls rather than a union key type: jwtVerify's overloads take one or the other.
      const result =
        key instanceof Uint8Array
          ? await jwtVerify(token, key, { ...verifyOptions, ...(currentDate ? { currentDate } : {}) })
          : await jwtVerify(token, key, { ...verifyOptions, ...(currentDate ? { currentDate } : {}) });
      claims = result.payload;
    } catch (error) {
      throw tokenError(error, !(key instanceof Uint8Array));
    }
    // A token issued in the future (beyond the skew) is refused: a clock that far off, or a
    // minted token meant to outlive its real issue time, is not to be trusted. jose checks
    // `iat` only together with a maximum age.
    const nowSec = (options.clock ? options.clock.now() : Date.now()) / 1_000;
    if (typeof claims.iat === 'number' && claims.iat > nowSec + clockTolerance) throw unauthorized('Token claim "iat" is in the future');
    const sub = claims.sub;
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) throw unauthorized('Token subject must be 1-200 printable characters without spaces');
    return { sub, admin: rolesOf(claims).includes(adminRole) };
  };
}

function defaultRoles(claims: JWTPayload): string[] {
  const { roles, role } = claims as { roles?: unknown; role?: unknown };
  const list = Array.isArray(roles) ? roles : [];
  return [...list, role].filter((r): r is string => typeof r === 'string');
}

/** jose errors become 401s with a message that says which check failed; a JWKS outage is ours (503). */
function tokenError(error: unknown, remoteKeys: boolean): HttpError {
  if (!(error instanceof errors.JOSEError)) return remoteKeys ? unavailable(error) : unauthorized('Token is malformed');
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return unauthorized('Token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as errors.JWTClaimValidationFailed).claim;
      return unauthorized(`Token claim "${claim}" is missing or not accepted`);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return unauthorized('Token algorithm is not accepted');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return unauthorized('Token signature is invalid');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return unauthorized('Token key id is unknown');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return unavailable(error);
    default:
      return unauthorized('Token is malformed');
  }
}

/** RFC 6750: no error code when no token was sent. */
function unauthorized(message: string, error: string | null = 'invalid_token'): HttpError {
  const challenge = error ? `Bearer error="${error}"` : 'Bearer';
  return new HttpError(401, 'UNAUTHENTICATED', message, { headers: { 'WWW-Authenticate': challenge } });
}

function unavailable(cause: unknown): HttpError {
  return new HttpError(503, 'UNAVAILABLE', 'Token keys could not be fetched; try again later', { cause });
}
