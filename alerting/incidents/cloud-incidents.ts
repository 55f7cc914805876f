// Ecosystem cloud partner support (ECPS): when devices of several customers lose registration with
// the same cloud provider within a short window, the fault is the provider's. One cloud-partner
// incident ticket (P1, queue cloud_partner) is opened; the per-device alerts link to it instead of
// each opening a ticket, and tickets already opened for them are merged into it.
import type { AlertStore } from '../alerts/alert-store.js';
import type { Ticket, TicketStore } from '../tickets/ticket-store.js';

export interface CloudIncidentOptions {
  /** Distinct customers that must lose the same provider within the window. */
  minCustomers: number;
  windowMs: number;
}

interface Loss {
  fingerprint: string;
  customerId: string;
  at: number;
}

export interface IncidentOutcome {
  /** The incident the alert now belongs to; undefined: handle the alert on its own. */
  incident: Ticket | undefined;
  created: boolean;
  /** Per-device tickets merged into a newly opened incident. */
  merged: Ticket[];
}

const NONE: IncidentOutcome = { incident: undefined, created: false, merged: [] };

export class CloudIncidents {
  private readonly recent = new Map<string, Loss[]>();

  constructor(
    private readonly alerts: AlertStore,
    private readonly tickets: TicketStore,
    private readonly options: CloudIncidentOptions,
  ) {}

  static dedupKey(provider: string): string {
    return `cloud_incident/${provider}`;
  }

  /** A device lost its registration with `provider`. Call before opening a per-device ticket. */
  registrationLost(provider: string, fingerprint: string, customerId: string | null, now: number): IncidentOutcome {
    if (!customerId || provider === 'none') return NONE;
    const key = CloudIncidents.dedupKey(provider);
    const losses = (this.recent.get(provider) ?? []).filter((l) => now - l.at < this.options.windowMs && l.fingerprint !== fingerprint);
    losses.push({ fingerprint, customerId, at: now });
    this.recent.set(provider, losses);

    const open = this.tickets.openFor(key);
    if (open) {
      this.alerts.linkIncident(fingerprint, open.id);
      this.tickets.event(open.id, now, 'system', 'annotated', `Another device lost its ${provider} registration (${fingerprint.split('/')[1]})`);
      return { incident: open, created: false, merged: [] };
    }
    const customers = new Set(losses.map((l) => l.customerId));
    if (customers.size < this.options.minCustomers) return NONE;

    const { ticket, created } = this.tickets.openIncident(
      {
        dedupKey: key,
        title: `${providerName(provider)} registration lost across ${customers.size} customers: cloud-partner incident`,
        note: `${losses.length} devices of ${customers.size} customers lost their ${providerName(provider)} registration within ${Math.round(this.options.windowMs / 60_000)} minutes; routed to the cloud partner`,
      },
      now,
    );
    const merged: Ticket[] = [];
    for (const l of losses) {
      this.alerts.linkIncident(l.fingerprint, ticket.id);
      const own = this.tickets.openFor(l.fingerprint);
      if (own) {
        const resolved = this.tickets.resolveFor(l.fingerprint, now, 'system', `Merged into cloud-partner incident #${ticket.id}`);
        if (resolved) merged.push(resolved);
      }
    }
    return { incident: ticket, created, merged };
  }

  /** An alert of an incident resolved: the incident resolves with the last of them. */
  alertResolved(incidentTicketId: number, now: number): Ticket | undefined {
    const t = this.tickets.get(incidentTicketId);
    if (t?.kind !== 'cloud_incident' || this.alerts.firingInIncident(incidentTicketId) > 0) return undefined;
    if (!t || t.kind !== 'cloud_incident' || t.status === 'resolved' || !t.dedupKey) return undefined;
    return this.tickets.resolveFor(t.dedupKey, now, 'system', 'Every device is registered again');
  }
}

function providerName(p: string): string {
  return p === 'teams' ? 'Microsoft Teams' : p === 'zoom' ? 'Zoom' : p === 'webex' ? 'Webex' : p;
}
