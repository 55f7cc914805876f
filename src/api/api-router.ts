// The partner and NOC REST API under /api/v1 (CONTRACT section 2), and /openapi.json.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { authenticate, type RateLimit } from './authenticate.js';
import type { ApiDeps } from './deps.js';
import { errorHandler, sendError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { mount, type AnyRoute } from './route.js';
import { alertRoutes } from './routes/alerts.js';
import { deviceRoutes } from './routes/devices.js';
import { recordRoutes } from './routes/records.js';
import { ticketRoutes } from './routes/tickets.js';

export interface ApiOptions {
  rateLimit: RateLimit;
  /** More route sets (diagnostics, webhooks), mounted the same way. */
  extraRoutes?: AnyRoute[];
  version: string;
}

export function apiRouters(d: ApiDeps, log: Logger, o: ApiOptions): Router[] {
  const routes = [...deviceRoutes(d), ...alertRoutes(d), ...ticketRoutes(d), ...recordRoutes(d), ...(o.extraRoutes ?? [])];
  const api = Router();
  api.use(express.json({ limit: '64kb' }));
  mount(api, routes, authenticate(d.registry, o.rateLimit, d.clock));
  api.use((_req, res) => sendError(res, 404, 'not_found', 'no such endpoint'));
  api.use(errorHandler(log));

  const doc = openApiDocument(routes, o.version);
  const root = Router();
  root.get('/openapi.json', (_req, res) => {
    res.json(doc);
  });
  root.use('/api/v1', api);
  return [root];
}
