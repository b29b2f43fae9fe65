/** Small node:http helpers: JSON answers, errors as the REST example writes them, bounded bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPunctualError, ValidationError } from '../errors.js';

/** Headers every answer carries: a strict CSP (no inline script, nothing from another origin). */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

const STATUS_OF: Record<string, number> = { VALIDATION: 400, NOT_FOUND: 404, CONFLICT: 409, STOPPED: 503, STORE: 503 };

/** Typed errors keep their code and message; anything else is a 500 that says nothing inside. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof HttpError) return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
  if (isPunctualError(error)) {
    const issues = error instanceof ValidationError ? { issues: error.issues } : {};
    return sendJson(res, STATUS_OF[error.code] ?? 500, { error: { code: error.code, message: error.message, ...issues } });
  }
  sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
}

const MAX_BODY = 16 * 1024;

/** Reads a small JSON object body (actions carry a reason or a range, nothing more). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Actions take Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Bodies are at most ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'The body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'INVALID_JSON', 'The body must be a JSON object');
  return value as Record<string, unknown>;
}
