// Tickets: create, list, read with history, acknowledge, comment, escalate, resolve; the advance
// replacement shipment of a ticket and its onsite visit.
import { z } from 'zod';
import { parseEscalationState } from '../../../alerting/escalation/escalation.js';
import type { Ticket as TicketRecord } from '../../../alerting/tickets/ticket-store.js';
import { ticketDiagnostic } from '../../diagnostics/ticket-diagnostics.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { canSee, partnerScope, type Principal } from '../principal.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { Id, NumericIdParams, Ticket, TicketDiagnostic, TicketEvent } from '../schemas.js';

const Replacement = z.object({
  id: z.number(),
  ticketId: z.number(),
  deviceId: z.string(),
  fault: z.string(),
  status: z.string(),
  shipBy: z.string(),
  deliverBy: z.string(),
  reason: z.string(),
  freight: z.string(),
  history: z.array(z.object({ status: z.string(), at: z.string(), by: z.string() })),
});

/**
 * Optional fields on tickets (a compatible extension): the acknowledge deadline and the next
 * escalation step from the ticket's escalation plan, and the advance-replacement shipment's state,
 * so a ticket queue can show countdowns and shipments without a request per ticket.
 */
const Deadlines = {
  ackDueMs: z.number().nullable().optional(),
  nextEscalation: z.object({ level: z.string(), dueMs: z.number() }).nullable().optional(),
  shipment: z.object({ status: z.string(), shipBy: z.string(), deliverBy: z.string(), freight: z.string() }).nullable().optional(),
};
const QueueTicket = Ticket.extend(Deadlines);

export function ticketRoutes(d: ApiDeps): AnyRoute[] {
  const a = d.alerting;
  const visible = (p: Principal, id: number): TicketRecord => {
    const t = a.tickets.get(id);
    if (!t || !canSee(p, t.partnerId)) throw notFound(`ticket ${id}`);
    return t;
  };
  const announce = (t: TicketRecord, change: string) => a.events.emit('ticket.updated', { ...a.events.meta(d.clock(), t), ticket: t, change });
  /** A person changed a ticket: audited under their name and announced on the bus. */
  const recordChange = (p: Principal, t: TicketRecord, change: string, data: Record<string, unknown>) => {
    a.audit.append({ actor: p.name, action: `ticket.${change}`, subject: `ticket:${t.id}`, partnerId: t.partnerId, data });
    announce(t, change);
  };
  const replacementView = (ticketId: number) => {
    const r = a.replacements.get(ticketId);
    if (!r) return null;
    return { id: r.id, ticketId: r.ticketId, deviceId: r.deviceId, fault: r.fault, status: r.status, shipBy: r.shipBy, deliverBy: r.deliverBy, reason: r.reason, freight: r.shipment.freight, history: r.shipment.history.map((h) => ({ status: h.status, at: new Date(h.at).toISOString(), by: h.by })) };
  };

  const withDeadlines = (t: TicketRecord) => {
    let ackDueMs: number | null = null;
    let nextEscalation: { level: string; dueMs: number } | null = null;
    const json = a.tickets.escalationOf(t.id);
    if (json) {
      try {
        const state = parseEscalationState(JSON.parse(json));
        ackDueMs = Date.parse(state.ack.dueAt);
        // A step to the level the ticket is already with changes nothing (the scheduler skips it).
        const next = state.resolvedAt === null ? state.steps.find((x) => !x.done && !x.cancelled && x.level !== t.queue) : undefined;
        nextEscalation = next ? { level: next.level, dueMs: Date.parse(next.dueAt) } : null;
      } catch {
        // An unreadable plan: the ticket is shown without deadlines (the scheduler logs it).
      }
    }
    const r = a.replacements.get(t.id);
    return { ...t, ackDueMs, nextEscalation, shipment: r ? { status: r.status, shipBy: r.shipBy, deliverBy: r.deliverBy, freight: r.shipment.freight } : null };
  };

  return [
    defineRoute({
      method: 'get',
      path: '/tickets',
      tag: 'tickets',
      summary: 'Tickets, newest first',
      query: z.object({ status: z.enum(['open', 'acknowledged', 'escalated', 'resolved']).optional(), deviceId: Id.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ items: z.array(QueueTicket) }),
      handler: ({ principal, query }) => ({ items: a.tickets.list({ partnerId: partnerScope(principal), status: query.status, deviceId: query.deviceId, limit: query.limit }).map(withDeadlines) }),
    }),
    defineRoute({
      method: 'get',
      path: '/tickets/:id',
      tag: 'tickets',
      summary: 'A ticket with its history, replacement shipment, and the network tool runs attached to it',
      params: NumericIdParams,
      response: QueueTicket.extend({ history: z.array(TicketEvent), replacement: Replacement.nullable(), diagnostics: z.array(TicketDiagnostic) }),
      handler: ({ principal, params }) => ({
        ...withDeadlines(visible(principal, params.id)),
        history: a.tickets.history(params.id),
        replacement: replacementView(params.id),
        diagnostics: (d.diagnostics?.list({ ticketId: params.id, partnerId: partnerScope(principal), limit: 500 }) ?? []).map(ticketDiagnostic),
      }),
    }),
    defineRoute({
      method: 'post',
      path: '/tickets',
      tag: 'tickets',
      summary: 'Open a ticket by hand (for a device or a customer)',
      body: z.object({ deviceId: Id.optional(), customerId: Id.optional(), title: z.string().min(3).max(200), description: z.string().max(5000).default(''), priority: z.enum(['P1', 'P2', 'P3', 'P4']).default('P3') }),
      response: Ticket,
      status: 201,
      handler: ({ principal, body }) => {
        let partnerId: string | null = null;
        let customerId: string | null = null;
        let siteId: string | null = null;
        let coverage: 'covered' | 'uncovered' | 'unknown' = 'unknown';
        if (body.deviceId) {
          const dev = d.registry.getDevice(body.deviceId);
          if (!dev || !canSee(principal, dev.partnerId)) throw notFound(`device ${body.deviceId}`);
          ({ partnerId, customerId, siteId } = dev);
          const today = new Date(d.clock()).toISOString().slice(0, 10);
          coverage = dev.coverage.until === null || dev.coverage.until >= today ? 'covered' : 'uncovered';
        } else if (body.customerId) {
          const c = d.registry.getCustomer(body.customerId);
          if (!c || !canSee(principal, c.partnerId)) throw notFound(`customer ${body.customerId}`);
          ({ partnerId } = c);
          customerId = c.id;
        } else if (principal.role !== 'noc') {
          throw badRequest('body: give deviceId or customerId');
        }
        return a.openManualTicket({ partnerId, customerId, siteId, deviceId: body.deviceId ?? null, title: body.title, priority: body.priority, queue: partnerId ? 'partner_l1' : 'noc', coverage, description: body.description || body.title }, principal.name);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/acknowledge',
      tag: 'tickets',
      summary: 'Acknowledge a ticket, with a comment',
      params: NumericIdParams,
      body: z.object({ comment: z.string().min(1).max(5000) }),
      response: Ticket,
      handler: ({ principal, params, body }) => {
        const t = visible(principal, params.id);
        if (t.status === 'resolved') throw new ApiError(409, 'conflict', 'the ticket is resolved');
        return a.escalation.acknowledge(params.id, principal.name, body.comment, d.clock());
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/comments',
      tag: 'tickets',
      summary: 'Comment on a ticket',
      params: NumericIdParams,
      body: z.object({ body: z.string().min(1).max(5000) }),
      response: Ticket,
      status: 201,
      handler: ({ principal, params, body }) => {
        visible(principal, params.id);
        return a.escalation.comment(params.id, principal.name, body.body, d.clock())!;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/escalate',
      tag: 'tickets',
      summary: 'Escalate a ticket to Poly support or a Poly specialist now',
      params: NumericIdParams,
      body: z.object({ level: z.enum(['poly_support', 'poly_specialist']), comment: z.string().min(1).max(5000) }),
      response: Ticket,
      handler: ({ principal, params, body }) => {
        const t = visible(principal, params.id);
        if (t.status === 'resolved') throw new ApiError(409, 'conflict', 'the ticket is resolved');
        const now = d.clock();
        const updated = a.tickets.escalateTo(params.id, body.level, now);
        a.tickets.event(params.id, now, principal.name, 'escalated', body.comment, { level: body.level });
        recordChange(principal, updated, 'escalated', { level: body.level, manual: true });
        return updated;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/assign',
      tag: 'tickets',
      summary: 'Give a ticket an owner',
      params: NumericIdParams,
      body: z.object({ owner: z.string().min(1).max(100), comment: z.string().max(5000).optional() }),
      response: Ticket,
      handler: ({ principal, params, body }) => {
        visible(principal, params.id);
        const now = d.clock();
        const updated = a.tickets.assign(params.id, body.owner, now);
        a.tickets.event(params.id, now, principal.name, 'assigned', body.comment ?? `Assigned to ${body.owner}`, { owner: body.owner });
        recordChange(principal, updated, 'assigned', { owner: body.owner });
        return updated;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/tickets/:id/onsite',
      tag: 'tickets',
      summary: 'The onsite visit proposed for a ticket (where location, product and coverage allow)',
      params: NumericIdParams,
      response: z.object({ id: z.number(), ticketId: z.number(), deviceId: z.string(), status: z.string(), reason: z.string(), createdMs: z.number(), updatedMs: z.number() }),
      handler: ({ principal, params }) => {
        visible(principal, params.id);
        const v = a.replacements.onsite(params.id);
        if (!v) throw notFound(`onsite visit of ticket ${params.id}`);
        return v;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/resolve',
      tag: 'tickets',
      summary: 'Resolve a ticket',
      params: NumericIdParams,
      body: z.object({ comment: z.string().min(1).max(5000) }),
      response: Ticket,
      handler: ({ principal, params, body }) => {
        visible(principal, params.id);
        const now = d.clock();
        const t = a.tickets.resolveById(params.id, now, principal.name, body.comment)!;
        a.escalation.resolved(t, now);
        recordChange(principal, t, 'resolved', { comment: body.comment });
        return t;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/tickets/:id/replacement',
      tag: 'tickets',
      summary: 'The advance replacement shipment of a ticket',
      params: NumericIdParams,
      response: Replacement,
      handler: ({ principal, params }) => {
        visible(principal, params.id);
        const r = replacementView(params.id);
        if (!r) throw notFound(`replacement of ticket ${params.id}`);
        return r;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/replacement',
      tag: 'tickets',
      summary: 'Move the shipment on: shipped, delivered, installed (confirmed by the partner), faulty part returned, or cancelled',
      params: NumericIdParams,
      body: z.object({ event: z.enum(['ship', 'deliver', 'install', 'return', 'cancel']), data: z.record(z.string(), z.string().max(200)).optional() }),
      response: Replacement,
      handler: ({ principal, params, body }) => {
        visible(principal, params.id);
        const res = a.replacements.advance(params.id, { type: body.event, at: new Date(d.clock()), by: principal.name, ...(body.data ? { data: body.data } : {}) });
        if (res.error === 'this ticket has no replacement') throw notFound(`replacement of ticket ${params.id}`);
        if (res.error) throw new ApiError(409, 'conflict', res.error);
        return replacementView(params.id)!;
      },
    }),
  ];
}
