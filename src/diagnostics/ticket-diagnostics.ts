// A network tool run as the evidence of a ticket: started for a ticket, or attached to it later.
// The ticket's history shows it twice (when it is attached, and its summary when the run ends),
// each time audited and announced as `ticket.updated`, so the partner watching the ticket sees the
// result land without asking for it. The run keeps the link (`diagnostics.ticket_id`, schema 8);
// one ticket per run.
//
// Who may see the ticket and the run is the API's business (principal scope); this module checks
// what holds for everyone: the run must be about the ticket's device, or a device at the ticket's
// site (a site ticket has no device), and a resolved ticket takes no new evidence.
import type { Logger } from 'pino';
import type { AuditSink } from '../../alerting/alerts/alert-manager.js';
import type { AlertEvents } from '../../alerting/events.js';
import type { Ticket, TicketStore } from '../../alerting/tickets/ticket-store.js';
import type { Database } from '../storage/database.js';
import type { Registry } from '../storage/registry.js';
import type { DiagnosticsEventPayload, DiagnosticsEvents, DiagnosticStatus } from './diagnostics-events.js';
import type { Diagnostic, DiagnosticsRequest, DiagnosticsService, RequestedBy } from './diagnostics-service.js';

/** Ticket history types (and, prefixed `ticket.`, audit actions) this module writes. */
export const TICKET_DIAGNOSTICS_CHANGES = ['diagnostics_attached', 'diagnostics_result'] as const;

export type TicketDiagnosticsErrorCode = 'ticket_mismatch' | 'ticket_resolved';

const STATUS: Readonly<Record<TicketDiagnosticsErrorCode, number>> = { ticket_mismatch: 400, ticket_resolved: 409 };

/** Why a run cannot go on a ticket; `status` is the HTTP status for the API. */
export class TicketDiagnosticsError extends Error {
  readonly status: number;

  constructor(
    readonly code: TicketDiagnosticsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TicketDiagnosticsError';
    this.status = STATUS[code];
  }
}

/** A run as a ticket shows it. */
export interface TicketDiagnostic {
  runId: string;
  deviceId: string;
  tool: string;
  target: string;
  state: DiagnosticStatus;
  /** The device's final reply (e.g. sent, received, lossPct, rttAvg); null until the run ends, or on timeout. */
  summary: Record<string, unknown> | null;
  requestedBy: string;
  createdMs: number;
  finishedMs: number | null;
}

export function ticketDiagnostic(run: Diagnostic): TicketDiagnostic {
  return { runId: run.id, deviceId: run.deviceId, tool: run.tool, target: run.target, state: run.status, summary: run.result, requestedBy: run.requestedBy, createdMs: run.createdMs, finishedMs: run.finishedMs };
}

/** May a run on this device be evidence for this ticket? Its own device, or a site ticket of its site. */
export function fitsTicket(ticket: Pick<Ticket, 'deviceId' | 'siteId'>, device: { deviceId: string; siteId: string }): boolean {
  if (ticket.deviceId !== null) return ticket.deviceId === device.deviceId;
  return ticket.siteId !== null && ticket.siteId === device.siteId;
}

/** One line for the ticket's history: `ping teams.microsoft.com: ok (sent 3, received 3, lossPct 0)`. */
export function describeRun(run: Pick<Diagnostic, 'tool' | 'target' | 'params' | 'status' | 'result'>): string {
  const what = `${run.tool} ${run.target}${run.params.port !== undefined ? `:${run.params.port}` : ''}`;
  const facts = Object.entries(run.result ?? {})
    .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 80))
    .slice(0, 8)
    .map(([k, v]) => `${k} ${String(v)}`);
  return `${what}: ${run.status}${facts.length ? ` (${facts.join(', ')})` : ''}`;
}

export interface TicketDiagnosticsDeps {
  db: Database;
  diagnostics: DiagnosticsService;
  diagnosticsEvents: DiagnosticsEvents;
  tickets: TicketStore;
  audit: AuditSink;
  /** The alerting bus: ticket.updated goes out on it (streams, webhooks, ticket points). */
  events: AlertEvents;
  registry: Pick<Registry, 'getDevice'>;
  log: Logger;
  clock?: () => number;
}

export class TicketDiagnostics {
  private readonly clock: () => number;
  private readonly onResult = (p: DiagnosticsEventPayload): void => {
    // Other listeners (the streams) come after this one: a failure here must not reach them.
    try {
      this.resultLanded(p);
    } catch (err) {
      this.d.log.error({ err, diagnosticsId: p.diagnosticsId }, 'diagnostics: recording the result on the ticket failed');
    }
  };

  constructor(private readonly d: TicketDiagnosticsDeps) {
    this.clock = d.clock ?? Date.now;
    d.diagnosticsEvents.on('result', this.onResult);
  }

  close(): void {
    this.d.diagnosticsEvents.off('result', this.onResult);
  }

  /**
   * Starts a run for a ticket: the run, its audit entry, the ticket's history entry and the
   * ticket's audit entry commit together. Throws TicketDiagnosticsError, or DiagnosticsError from
   * the start (bad request, busy, rate limited).
   */
  start(deviceId: string, request: DiagnosticsRequest, requestedBy: RequestedBy, ticket: Ticket): Diagnostic {
    this.check(ticket, deviceId);
    const run = this.d.diagnostics.start(deviceId, request, requestedBy, { ticketId: ticket.id, alsoRecord: (r) => this.recordAttached(r, ticket, requestedBy.name) });
    this.announce(ticket.id, 'diagnostics_attached', run.createdMs);
    return run;
  }

  /** Attaches an existing run; `attached: false` when it already was on this ticket (nothing recorded twice). */
  attach(runId: string, ticket: Ticket, actor: string): { item: TicketDiagnostic; attached: boolean } {
    const current = this.d.diagnostics.get(runId);
    if (current) this.check(ticket, current.deviceId);
    const now = this.clock();
    const { run, attached } = this.d.diagnostics.attachTicket(runId, ticket.id, (r) => this.recordAttached(r, ticket, actor, now));
    if (attached) this.announce(ticket.id, 'diagnostics_attached', now);
    return { item: ticketDiagnostic(run), attached };
  }

  private check(ticket: Ticket, deviceId: string): void {
    const device = this.d.registry.getDevice(deviceId);
    if (!device || !fitsTicket(ticket, device)) {
      throw new TicketDiagnosticsError('ticket_mismatch', `ticket ${ticket.id} is not about device ${deviceId} or its site`);
    }
    if (ticket.status === 'resolved') throw new TicketDiagnosticsError('ticket_resolved', `ticket ${ticket.id} is resolved`);
  }

  private recordAttached(run: Diagnostic, ticket: Ticket, actor: string, now = run.createdMs): void {
    const data = { runId: run.id, deviceId: run.deviceId, tool: run.tool, target: run.target, status: run.status, summary: run.result };
    this.d.tickets.event(ticket.id, now, actor, 'diagnostics_attached', `Network tool run attached: ${describeRun(run)}`, data);
    this.d.audit.append({ actor, action: 'ticket.diagnostics_attached', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { runId: run.id, deviceId: run.deviceId, tool: run.tool, target: run.target } });
  }

  private resultLanded(p: DiagnosticsEventPayload): void {
    const run = this.d.diagnostics.get(p.diagnosticsId);
    if (!run || run.ticketId === null) return;
    const ticket = this.d.tickets.get(run.ticketId);
    if (!ticket) return;
    this.d.db.transaction(() => {
      this.d.tickets.event(ticket.id, p.ts, 'system', 'diagnostics_result', describeRun(run), { runId: run.id, deviceId: run.deviceId, tool: run.tool, target: run.target, status: run.status, summary: run.result });
      this.d.audit.append({ actor: 'system', action: 'ticket.diagnostics_result', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { runId: run.id, status: run.status } });
    });
    this.announce(ticket.id, 'diagnostics_result', p.ts);
  }

  private announce(ticketId: number, change: (typeof TICKET_DIAGNOSTICS_CHANGES)[number], ts: number): void {
    const ticket = this.d.tickets.get(ticketId);
    if (ticket) this.d.events.emit('ticket.updated', { ...this.d.events.meta(ts, ticket), ticket, change });
  }
}
