// API errors as values: `{"error":{"code","message"}}` with the right HTTP status (CONTRACT section 2).
import type { ErrorRequestHandler, Response } from 'express';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const forbidden = (message = 'your role may not do this') => new ApiError(403, 'forbidden', message);

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** The last handler: known errors as they are, body-parser errors as 4xx, anything else a 500 without details. */
export function errorHandler(log: { error(obj: object, msg: string): void }): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof ApiError) return sendError(res, err.status, err.code, err.message);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', 'request body is too large');
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'request body is not valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'bad_request', e.message ?? 'bad request');
    log.error({ err }, 'unhandled API error');
    sendError(res, 500, 'internal', 'internal error');
  };
}
