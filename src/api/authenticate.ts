// Bearer-token authentication and a per-token rate limit (token bucket), in front of every API route.
import type { RequestHandler } from 'express';
import type { Registry } from '../storage/registry.js';
import { sendError } from './errors.js';
import { bearerToken, principalFromToken } from './principal.js';

export interface RateLimit {
  /** Sustained requests per second per token. */
  perSecond: number;
  burst: number;
}

export function authenticate(registry: Pick<Registry, 'findUserByToken'>, limit: RateLimit, clock: () => number = Date.now): RequestHandler {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return sendError(res, 401, 'unauthorized', 'send Authorization: Bearer <token>');
    const principal = principalFromToken(registry, token);
    if (!principal) return sendError(res, 401, 'unauthorized', 'unknown token');
    const now = clock();
    const key = String(principal.userId);
    const b = buckets.get(key) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      res.setHeader('Retry-After', String(Math.ceil((1 - b.tokens) / limit.perSecond)));
      return sendError(res, 429, 'rate_limited', `more than ${limit.perSecond} requests per second for this token`);
    }
    b.tokens -= 1;
    buckets.set(key, b);
    res.locals.principal = principal;
    next();
  };
}
