// Network tools on a device: start one (202 with an id; steps stream as diagnostics.progress and
// the summary as diagnostics.result), read a run, list a device's runs.
import { z } from 'zod';
import { DiagnosticsError, type DiagnosticsService } from '../../diagnostics/diagnostics-service.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { canSee, partnerScope } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { IdParams } from '../schemas.js';

const Run = z.object({
  id: z.string(),
  deviceId: z.string(),
  partnerId: z.string().nullable(),
  customerId: z.string().nullable(),
  tool: z.string(),
  target: z.string(),
  status: z.enum(['pending', 'running', 'ok', 'error', 'timeout']),
  steps: z.array(z.object({ seq: z.number(), status: z.string(), data: z.record(z.string(), z.unknown()) })),
  result: z.record(z.string(), z.unknown()).nullable(),
  requestedBy: z.string(),
  createdMs: z.number(),
  finishedMs: z.number().nullable(),
});

export function diagnosticsRoutes(d: ApiDeps & { diagnostics: DiagnosticsService }): AnyRoute[] {
  const view = (r: z.input<typeof Run>) => ({ id: r.id, deviceId: r.deviceId, partnerId: r.partnerId, customerId: r.customerId, tool: r.tool, target: r.target, status: r.status, steps: r.steps, result: r.result, requestedBy: r.requestedBy, createdMs: r.createdMs, finishedMs: r.finishedMs });
  return [
    defineRoute({
      method: 'post',
      path: '/devices/:id/diagnostics',
      tag: 'diagnostics',
      summary: 'Run a network tool on a device (ping, traceroute, dns, bandwidth, port); answers 202 with the run id',
      params: IdParams,
      body: z.object({ tool: z.enum(['ping', 'traceroute', 'dns', 'bandwidth', 'port']), target: z.string().min(1).max(253), port: z.number().int().min(1).max(65535).optional(), count: z.number().int().min(1).max(20).optional() }),
      response: Run,
      status: 202,
      handler: ({ principal, params, body }) => {
        const dev = d.registry.getDevice(params.id);
        if (!dev || !canSee(principal, dev.partnerId)) throw notFound(`device ${params.id}`);
        try {
          return view(d.diagnostics.start(params.id, body, { name: principal.name, partnerId: principal.partnerId }));
        } catch (err) {
          if (err instanceof DiagnosticsError) throw new ApiError(err.status, err.code, err.message);
          throw err;
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/devices/:id/diagnostics',
      tag: 'diagnostics',
      summary: 'Network tool runs on a device, newest first',
      params: IdParams,
      response: z.object({ items: z.array(Run) }),
      handler: ({ principal, params }) => {
        const dev = d.registry.getDevice(params.id);
        if (!dev || !canSee(principal, dev.partnerId)) throw notFound(`device ${params.id}`);
        return { items: d.diagnostics.list({ deviceId: params.id, partnerId: partnerScope(principal), limit: 50 }).map(view) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/diagnostics/:id',
      tag: 'diagnostics',
      summary: 'A network tool run: its steps so far and its result',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: Run,
      handler: ({ principal, params }) => {
        const run = d.diagnostics.get(params.id);
        if (!run || !canSee(principal, run.partnerId)) throw notFound(`diagnostics run ${params.id}`);
        return view(run);
      },
    }),
  ];
}
