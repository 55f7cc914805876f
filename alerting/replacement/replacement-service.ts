// The I/O shell around advance replacement and onsite visits: when a hardware fault opens a ticket
// on a covered device, request a replacement that ships before the faulty part comes back (ship-by
// on the next business day in the site's calendar, freight prepaid), and propose an onsite visit
// where the location, the product and the coverage allow. An uncovered device gets neither, and its
// ticket says why.
import type { Database } from '../../src/storage/database.js';
import type { DeviceTenant, Registry } from '../../src/storage/registry.js';
import type { AuditSink } from '../alerts/alert-manager.js';
import type { AlertEvents } from '../events.js';
import type { Ticket, TicketStore } from '../tickets/ticket-store.js';
import { isEligibleForReplacement } from './eligibility.js';
import { requestShipment, transition, type Shipment, type ShipmentEvent } from './lifecycle.js';
import { onsiteEligibility } from './onsite.js';
import { productTypeOf } from './product-types.js';
import { shipBy } from './ship-by.js';

export interface Replacement {
  id: number;
  ticketId: number;
  deviceId: string;
  partnerId: string;
  customerId: string;
  fault: string;
  status: Shipment['status'];
  shipBy: string;
  deliverBy: string;
  reason: string;
  shipment: Shipment;
}

interface Row {
  id: number;
  ticket_id: number;
  device_id: string;
  partner_id: string;
  customer_id: string;
  fault: string;
  status: Shipment['status'];
  ship_by: string;
  deliver_by: string;
  reason: string;
  shipment: string;
}

const toReplacement = (r: Row): Replacement => ({
  id: r.id,
  ticketId: r.ticket_id,
  deviceId: r.device_id,
  partnerId: r.partner_id,
  customerId: r.customer_id,
  fault: r.fault,
  status: r.status,
  shipBy: r.ship_by,
  deliverBy: r.deliver_by,
  reason: r.reason,
  shipment: JSON.parse(r.shipment, (k, v) => (k === 'at' ? new Date(v as string) : v)) as Shipment,
});

export interface ReplacementDeps {
  db: Database;
  tickets: TicketStore;
  registry: Pick<Registry, 'getSite'>;
  audit: AuditSink;
  events: AlertEvents;
}

export class ReplacementService {
  constructor(private readonly d: ReplacementDeps) {}

  /** Called when a hardware fault on a ticket has lasted its confirmation window. */
  hardwareFault(ticket: Ticket, tenant: DeviceTenant | undefined, fault: string, now: number): void {
    if (!tenant || ticket.deviceId === null) return;
    // Decided once per ticket (a restart asks again for alerts still firing).
    if (this.get(ticket.id) || this.d.tickets.history(ticket.id).some((e) => e.type === 'replacement_not_eligible')) return;
    const site = this.d.registry.getSite(tenant.siteId);
    const at = new Date(now);
    const eligibility = isEligibleForReplacement({ coverage: tenant.coverage, faultKind: fault, at, ...(site ? { timezone: site.timezone } : {}) });
    const changes: string[] = [];
    this.d.db.transaction(() => {
      if (!eligibility.eligible) {
        this.d.tickets.event(ticket.id, now, 'system', 'replacement_not_eligible', `No advance replacement: ${eligibility.reason}`);
        return;
      }
      const existing = this.get(ticket.id);
      if (!existing && site) {
        const sb = shipBy({ requestedAt: at, country: site.country, timezone: site.timezone });
        const shipment = requestShipment({ at, by: 'system' });
        const id = Number(
          this.d.db
            .prepare(`INSERT INTO replacements (ticket_id, device_id, partner_id, customer_id, fault, status, ship_by, deliver_by, reason, shipment, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?)`)
            .run(ticket.id, ticket.deviceId!, tenant.partnerId, tenant.customerId, fault, sb.shipByDate, sb.deliverByDate, sb.reason, JSON.stringify(shipment), now, now).lastInsertRowid,
        );
        this.d.tickets.event(ticket.id, now, 'system', 'replacement_requested', `Advance replacement requested (${fault}): ships by ${sb.shipByDate}, delivered by ${sb.deliverByDate}, freight prepaid. ${sb.reason}`, { replacementId: id });
        this.d.audit.append({ actor: 'system', action: 'replacement.requested', subject: `ticket:${ticket.id}`, partnerId: tenant.partnerId, data: { replacementId: id, fault, shipBy: sb.shipByDate } });
        changes.push('replacement');
      }
      const onsite = onsiteEligibility({ country: site?.country ?? '', productType: productTypeOf(tenant.model), coverageOnsite: tenant.coverage.onsite });
      const hasVisit = this.d.db.prepare(`SELECT 1 FROM onsite_visits WHERE ticket_id = ?`).get(ticket.id);
      if (onsite.eligible && !hasVisit) {
        this.d.db.prepare(`INSERT INTO onsite_visits (ticket_id, device_id, status, reason, created_ms, updated_ms) VALUES (?, ?, 'proposed', ?, ?, ?)`).run(ticket.id, ticket.deviceId!, onsite.reason, now, now);
        this.d.tickets.event(ticket.id, now, 'system', 'onsite_proposed', `Onsite visit proposed: ${onsite.reason}`);
        this.d.audit.append({ actor: 'system', action: 'onsite.proposed', subject: `ticket:${ticket.id}`, partnerId: tenant.partnerId, data: {} });
        changes.push('onsite');
      }
    });
    const updated = this.d.tickets.get(ticket.id)!;
    for (const change of changes) this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, updated), ticket: updated, change });
  }

  get(ticketId: number): Replacement | undefined {
    const r = this.d.db.prepare<Row>(`SELECT * FROM replacements WHERE ticket_id = ?`).get(ticketId);
    return r && toReplacement(r);
  }

  /** Replacements of a device, newest first (its timeline). */
  forDevice(deviceId: string): Replacement[] {
    return this.d.db.prepare<Row>(`SELECT * FROM replacements WHERE device_id = ? ORDER BY id DESC LIMIT 100`).all(deviceId).map(toReplacement);
  }

  /** The onsite visit of a ticket, if one was proposed. */
  onsite(ticketId: number): { id: number; ticketId: number; deviceId: string; status: string; reason: string; createdMs: number; updatedMs: number } | undefined {
    const r = this.d.db.prepare<{ id: number; ticket_id: number; device_id: string; status: string; reason: string; created_ms: number; updated_ms: number }>(`SELECT * FROM onsite_visits WHERE ticket_id = ?`).get(ticketId);
    return r && { id: r.id, ticketId: r.ticket_id, deviceId: r.device_id, status: r.status, reason: r.reason, createdMs: r.created_ms, updatedMs: r.updated_ms };
  }

  /** Moves a shipment on (shipped, delivered, installed by the partner, faulty part returned). */
  advance(ticketId: number, event: ShipmentEvent): { replacement?: Replacement; error?: string } {
    const current = this.get(ticketId);
    if (!current) return { error: 'this ticket has no replacement' };
    const next = transition(current.shipment, event);
    if (next.error) return { error: next.error };
    const now = event.at.getTime();
    this.d.db.transaction(() => {
      this.d.db.prepare(`UPDATE replacements SET status = ?, shipment = ?, updated_ms = ? WHERE id = ?`).run(next.state.status, JSON.stringify(next.state), now, current.id);
      this.d.tickets.event(ticketId, now, event.by, `replacement_${next.state.status}`, `Replacement ${next.state.status}`, event.data ? { ...event.data } : undefined);
      this.d.audit.append({ actor: event.by, action: `replacement.${next.state.status}`, subject: `ticket:${ticketId}`, partnerId: current.partnerId, data: { replacementId: current.id } });
    });
    const ticket = this.d.tickets.get(ticketId)!;
    this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, ticket), ticket, change: `replacement_${next.state.status}` });
    return { replacement: this.get(ticketId)! };
  }
}
