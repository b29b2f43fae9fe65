import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isPunctualError, type ValidationIssue } from 'punctual';
import type { Logger } from './logger.js';

/** The `code` of every error response. */
export type HttpErrorCode =
  | 'VALIDATION'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** An error the HTTP layer raises itself, with a status and a message safe to show. */
export class HttpError extends Error {
  readonly issues?: readonly ValidationIssue[];
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    extra: { issues?: readonly ValidationIssue[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = 'HttpError';
    if (extra.issues) this.issues = extra.issues;
    this.headers = extra.headers ?? {};
  }
}

/** A 400 listing the bad fields, in the same shape as punctual's ValidationError. */
export function invalid(subject: string, issues: readonly ValidationIssue[]): HttpError {
  const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return new HttpError(400, 'VALIDATION', `${subject}: ${detail}`, { issues });
}

export interface ErrorBody {
  error: { code: HttpErrorCode; message: string; requestId: string; issues?: ValidationIssue[] };
}

export function sendError(res: Response, status: number, code: HttpErrorCode, message: string, issues?: readonly ValidationIssue[]): void {
  const requestId = String(res.locals.requestId ?? '');
  const body: ErrorBody = { error: { code, message: clip(message, 2_000), requestId } };
  if (issues && issues.length > 0) body.error.issues = issues.slice(0, 50).map((i) => ({ path: i.path, message: clip(i.message, 500) }));
  res.status(status).json(body);
}

/** Unmatched routes: the same JSON shape as every other error. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, 404, 'NOT_FOUND', `No route ${req.method} ${req.path}`);
};

/** body-parser errors carry a `type` and a `status`. */
const BODY_ERRORS: Record<string, [number, HttpErrorCode, string]> = {
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than the limit'],
  'entity.parse.failed': [400, 'VALIDATION', 'Request body is not valid JSON (an object or an array is expected)'],
  'encoding.unsupported': [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported content encoding'],
  'charset.unsupported': [415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported charset; send UTF-8 JSON'],
  'request.aborted': [400, 'VALIDATION', 'Request body was aborted'],
  'request.size.invalid': [400, 'VALIDATION', 'Request body size does not match its Content-Length'],
};

/**
 * Maps every error to the JSON shape: punctual's typed errors by `name` (not `instanceof`, so it
 * works with two copies of the package), the HTTP layer's own, body-parser's. Anything else is a
 * fault: logged with its stack, answered with a generic message.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof HttpError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      if (error.status >= 500) logger('error', 'request failed', { requestId: res.locals.requestId, error });
      sendError(res, error.status, error.code, error.message, error.issues);
      return;
    }
    const bodyError = bodyParserError(error);
    if (bodyError) {
      sendError(res, ...bodyError, bodyError[1] === 'VALIDATION' ? [{ path: 'body', message: bodyError[2] }] : undefined);
      return;
    }
    if (isPunctualError(error, 'ValidationError')) {
      const issues = (error as { issues?: readonly ValidationIssue[] }).issues ?? [];
      sendError(res, 400, 'VALIDATION', error.message, issues);
      return;
    }
    if (isPunctualError(error, 'NotFoundError')) return sendError(res, 404, 'NOT_FOUND', error.message);
    if (isPunctualError(error, 'ConflictError')) return sendError(res, 409, 'CONFLICT', error.message);
    const unavailable = isPunctualError(error, 'StoreError') || isPunctualError(error, 'StoppedError');
    logger('error', 'request failed', { requestId: res.locals.requestId, method: req.method, path: req.path, error });
    if (unavailable) return sendError(res, 503, 'UNAVAILABLE', 'The scheduler is temporarily unavailable; try again later');
    sendError(res, 500, 'INTERNAL', 'Internal server error');
  };
}

function bodyParserError(error: unknown): [number, HttpErrorCode, string] | null {
  if (typeof error !== 'object' || error === null) return null;
  const { type, status } = error as { type?: unknown; status?: unknown };
  if (typeof type !== 'string') return null;
  const known = BODY_ERRORS[type];
  if (known) return known;
  return typeof status === 'number' && status >= 400 && status < 500 ? [status, 'VALIDATION', 'Invalid request body'] : null;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
