// The I/O shell around the escalation core: plans a ticket's escalation when it opens, stores the
// plan on the ticket (so it survives a restart), and once a second carries out what is due. Each
// action and the state that records it are written in one transaction: an action is never
// repeated after a restart (at worst, a crash between commit and the bus event loses the event,
// never the ticket change).
import type { Logger } from 'pino';
import type { Registry } from '../../src/storage/registry.js';
import type { Database } from '../../src/storage/database.js';
import type { AuditSink } from '../alerts/alert-manager.js';
import type { AlertEvents } from '../events.js';
import type { Ticket, TicketStore } from '../tickets/ticket-store.js';
import { acknowledge, due, markDone, nextWakeUp, parseEscalationState, planEscalation, resolve, type EscalationState } from './escalation.js';
import { policiesFor, responseClockFor, type EscalationPolicy, type PolicyFile } from './policy.js';

export interface EscalationDeps {
  db: Database;
  tickets: TicketStore;
  registry: Pick<Registry, 'getPartner' | 'getCustomer' | 'getDevice'>;
  policyFile: PolicyFile | undefined;
  audit: AuditSink;
  events: AlertEvents;
  log: Logger;
  clock?: () => number;
}

const LEVEL_NAMES: Record<string, string> = { partner_l1: 'partner L1', poly_support: 'Poly support', poly_specialist: 'Poly specialist' };

export class EscalationScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly d: EscalationDeps) {
    this.clock = d.clock ?? Date.now;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => this.tick(this.clock()), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A ticket was opened or reopened: plan its escalation from now. */
  opened(ticket: Ticket, now: number): void {
    const state = this.plan(ticket, now);
    const wake = nextWakeUp(state, new Date(now));
    // Steps due at once (partner L1 at opening) are picked up by the next tick.
    this.d.tickets.setEscalation(ticket.id, JSON.stringify(state), due(state, new Date(now)).length > 0 ? now : (wake?.getTime() ?? null));
  }

  resolved(ticket: Ticket, now: number): void {
    const state = this.load(ticket.id);
    if (state) this.d.tickets.setEscalation(ticket.id, JSON.stringify(resolve(state, new Date(now))), null);
  }

  /** A person commented on a ticket. */
  comment(ticketId: number, by: string, body: string, now: number): Ticket | undefined {
    const ticket = this.d.tickets.get(ticketId);
    if (!ticket) return undefined;
    this.d.db.transaction(() => {
      this.d.tickets.event(ticketId, now, by, 'comment', body);
      this.d.audit.append({ actor: by, action: 'ticket.comment', subject: `ticket:${ticketId}`, partnerId: ticket.partnerId, data: { body } });
    });
    this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, ticket), ticket, change: 'comment' });
    return ticket;
  }

  /** A person took the ticket: the acknowledge clock stops, and so do later levels where the policy says so. */
  acknowledge(ticketId: number, by: string, comment: string, now: number): Ticket {
    const ticket = this.d.db.transaction(() => {
      const t = this.d.tickets.acknowledge(ticketId, now);
      this.d.tickets.event(ticketId, now, by, 'acknowledged', comment);
      const state = this.load(ticketId);
      if (state) {
        const next = acknowledge(state, new Date(now));
        this.d.tickets.setEscalation(ticketId, JSON.stringify(next), nextWakeUp(next, new Date(now))?.getTime() ?? null);
      }
      this.d.audit.append({ actor: by, action: 'ticket.acknowledged', subject: `ticket:${ticketId}`, partnerId: t.partnerId, data: { comment } });
      return t;
    });
    this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, ticket), ticket, change: 'acknowledged' });
    return ticket;
  }

  tick(now: number): void {
    for (const { ticket } of this.d.tickets.dueForEscalation(now)) {
      try {
        this.runDue(ticket.id, now);
      } catch (err) {
        this.d.log.error({ err, ticketId: ticket.id }, 'escalation step failed; retried at the next tick');
      }
    }
  }

  private runDue(ticketId: number, now: number): void {
    const at = new Date(now);
    const changes: Array<{ ticket: Ticket; change: string }> = [];
    this.d.db.transaction(() => {
      let state = this.load(ticketId);
      if (!state) return this.d.tickets.setEscalation(ticketId, '', null);
      let ticket = this.d.tickets.get(ticketId)!;
      for (const action of due(state, at)) {
        if (action.kind === 'ack_overdue') {
          this.d.tickets.event(ticketId, now, 'system', 'ack_overdue', `Not acknowledged in time (due ${action.dueAt.toISOString()}); with ${LEVEL_NAMES[action.level]}`);
          this.d.audit.append({ actor: 'system', action: 'ticket.ack_overdue', subject: `ticket:${ticketId}`, partnerId: ticket.partnerId, data: { dueAt: action.dueAt.toISOString() } });
          changes.push({ ticket, change: 'ack_overdue' });
        } else if (action.level === 'partner_l1' && ticket.partnerId === null) {
          // No partner (an unregistered device, a cloud-partner incident): the ticket stays with the NOC.
        } else if (action.level !== 'partner_l1' || ticket.queue !== 'partner_l1') {
          ticket = this.d.tickets.escalateTo(ticketId, action.level, now);
          this.d.tickets.event(ticketId, now, 'system', 'escalated', `Escalated to ${LEVEL_NAMES[action.level]}`, { level: action.level });
          this.d.audit.append({ actor: 'system', action: 'ticket.escalated', subject: `ticket:${ticketId}`, partnerId: ticket.partnerId, data: { level: action.level } });
          changes.push({ ticket, change: 'escalated' });
        }
        state = markDone(state, action.key, at);
      }
      this.d.tickets.setEscalation(ticketId, JSON.stringify(state), nextWakeUp(state, at)?.getTime() ?? null);
    });
    for (const c of changes) this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, c.ticket), ticket: c.ticket, change: c.change });
  }

  private plan(ticket: Ticket, now: number): EscalationState {
    const partner = ticket.partnerId ? this.d.registry.getPartner(ticket.partnerId) : undefined;
    const customer = ticket.customerId ? this.d.registry.getCustomer(ticket.customerId) : undefined;
    let policy: EscalationPolicy = policiesFor(this.d.policyFile, ticket.partnerId ?? '')[ticket.priority];
    // The device's coverage sets the response clock: without 24/7 coverage (poly-plus, poly-premier)
    // the clock runs in business hours, except for P1, which is always around the clock.
    const plan = ticket.deviceId ? this.d.registry.getDevice(ticket.deviceId)?.coverage.plan : undefined;
    if (plan !== undefined && ticket.priority !== 'P1' && responseClockFor(plan) === 'business_hours') policy = { ...policy, clock: 'business_hours' };
    const input = {
      priority: ticket.priority,
      openedAt: new Date(now),
      partnerTimezone: partner?.timezone ?? 'UTC',
      partnerCountry: partner?.country ?? customer?.country ?? 'US',
    };
    // Tickets without a partner are the NOC's, which works around the clock; so does a partner
    // whose calendar we cannot build (an unknown country), rather than never escalating.
    if (!partner) return planEscalation(input, { ...policy, clock: '24x7' });
    try {
      return planEscalation(input, policy);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message, partnerId: ticket.partnerId }, 'business-hours calendar unavailable; escalating around the clock');
      return planEscalation(input, { ...policy, clock: '24x7' });
    }
  }

  private load(ticketId: number): EscalationState | undefined {
    const json = this.d.tickets.escalationOf(ticketId);
    if (!json) return undefined;
    try {
      return parseEscalationState(JSON.parse(json));
    } catch (err) {
      this.d.log.error({ err, ticketId }, 'stored escalation state unreadable');
      return undefined;
    }
  }
}
