// Network tools on a device: start one (202 with an id; steps stream as diagnostics.progress and
// the summary as diagnostics.result), read a run, list a device's runs; a run as the evidence of a
// ticket (started for it, or attached afterwards).
import { z } from 'zod';
import { DiagnosticsError, type DiagnosticsService } from '../../diagnostics/diagnostics-service.js';
import { TicketDiagnosticsError, type TicketDiagnostics } from '../../diagnostics/ticket-diagnostics.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { canSee, partnerScope, type Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { IdParams, NumericIdParams, TicketDiagnostic } from '../schemas.js';

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
  /** The ticket the run is evidence for; null: none. */
  ticketId: z.number().nullable(),
});

const RunId = z.string().min(1).max(64);

/** Refusals of the diagnostics layer, as API errors with their code. */
function apiError(err: unknown): unknown {
  if (err instanceof DiagnosticsError || err instanceof TicketDiagnosticsError) return new ApiError(err.status, err.code, err.message);
  return err;
}

export function diagnosticsRoutes(d: ApiDeps & { diagnostics: DiagnosticsService; ticketDiagnostics: TicketDiagnostics }): AnyRoute[] {
  const view = (r: z.input<typeof Run>) => ({ id: r.id, deviceId: r.deviceId, partnerId: r.partnerId, customerId: r.customerId, tool: r.tool, target: r.target, status: r.status, steps: r.steps, result: r.result, requestedBy: r.requestedBy, createdMs: r.createdMs, finishedMs: r.finishedMs, ticketId: r.ticketId });
  /** A ticket of another partner answers exactly like one that does not exist. */
  const visibleTicket = (p: Principal, id: number) => {
    const t = d.alerting.tickets.get(id);
    if (!t || !canSee(p, t.partnerId)) throw notFound(`ticket ${id}`);
    return t;
  };
  return [
    defineRoute({
      method: 'post',
      path: '/devices/:id/diagnostics',
      tag: 'diagnostics',
      summary: 'Run a network tool on a device (ping, traceroute, dns, bandwidth, port), optionally as evidence for a ticket; answers 202 with the run id',
      params: IdParams,
      body: z.object({
        tool: z.enum(['ping', 'traceroute', 'dns', 'bandwidth', 'port']),
        target: z.string().min(1).max(253),
        port: z.number().int().min(1).max(65535).optional(),
        count: z.number().int().min(1).max(20).optional(),
        /** A ticket about this device (or its site): the run goes into its history, its result too. */
        ticketId: z.number().int().positive().optional(),
      }),
      response: Run,
      status: 202,
      handler: ({ principal, params, body }) => {
        const dev = d.registry.getDevice(params.id);
        if (!dev || !canSee(principal, dev.partnerId)) throw notFound(`device ${params.id}`);
        const { ticketId, ...request } = body;
        const by = { name: principal.name, partnerId: principal.partnerId };
        try {
          if (ticketId === undefined) return view(d.diagnostics.start(params.id, request, by));
          return view(d.ticketDiagnostics.start(params.id, request, by, visibleTicket(principal, ticketId)));
        } catch (err) {
          throw apiError(err);
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
      params: z.object({ id: RunId }),
      response: Run,
      handler: ({ principal, params }) => {
        const run = d.diagnostics.get(params.id);
        if (!run || !canSee(principal, run.partnerId)) throw notFound(`diagnostics run ${params.id}`);
        return view(run);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/diagnostics',
      tag: 'diagnostics',
      summary: 'Attach a network tool run to a ticket about the same device (or its site); its result goes into the ticket history when it lands. Idempotent',
      params: NumericIdParams,
      body: z.object({ runId: RunId }),
      response: TicketDiagnostic,
      handler: ({ principal, params, body }) => {
        const ticket = visibleTicket(principal, params.id);
        const run = d.diagnostics.get(body.runId);
        if (!run || !canSee(principal, run.partnerId)) throw notFound(`diagnostics run ${body.runId}`);
        try {
          return d.ticketDiagnostics.attach(run.id, ticket, principal.name).item;
        } catch (err) {
          throw apiError(err);
        }
      },
    }),
  ];
}
