// Alerting, wired: rules evaluated in the ingest stream, alert states and tickets in the relational
// store, the audit log, and the event bus the API layer listens to. Started by src/service.ts.
import type { Logger } from 'pino';
import type { IngestEvents } from '../collector/ingest-events.js';
import type { Attribution } from '../collector/tenant-tags.js';
import type { Database } from '../src/storage/database.js';
import type { Registry } from '../src/storage/registry.js';
import { EscalationScheduler } from './escalation/escalation-scheduler.js';
import type { PolicyFile } from './escalation/policy.js';
import { ReplacementService } from './replacement/replacement-service.js';
import { CloudIncidents, type CloudIncidentOptions } from './incidents/cloud-incidents.js';
import { SilenceStore } from './silences/silence-store.js';
import { SiteOutages } from './inhibit/site-outage.js';
import { AlertManager } from './alerts/alert-manager.js';
import { AlertStore } from './alerts/alert-store.js';
import { AuditLog } from './audit/audit-log.js';
import { AlertEvaluator } from './evaluator.js';
import { AlertEvents } from './events.js';
import type { RuleSet } from './rules/rule-set.js';
import { TicketStore, type Ticket } from './tickets/ticket-store.js';
import { attachTicketPoints } from './tickets/ticket-points.js';

export interface AlertingDeps {
  db: Database;
  registry: Registry;
  ingest: IngestEvents;
  escalationPolicies?: PolicyFile | undefined;
  cloudIncidents: CloudIncidentOptions;
  rules: RuleSet;
  resolve: (deviceId: string) => Attribution;
  /** Stages a line for InfluxDB and makes sure it is written (the collector's journal). */
  writePoint: (line: string) => void;
  reopenWindowMs: number;
  log: Logger;
  clock?: () => number;
  sweepEveryMs?: number;
}

export interface Alerting {
  events: AlertEvents;
  alerts: AlertStore;
  tickets: TicketStore;
  audit: AuditLog;
  evaluator: AlertEvaluator;
  escalation: EscalationScheduler;
  replacements: ReplacementService;
  silences: SilenceStore;
  /** A ticket a person opens (the partner API calls this): audited, announced, escalated like any. */
  openManualTicket(t: Parameters<TicketStore['createManual']>[0], actor: string): Ticket;
  stop(): void;
}

export function startAlerting(d: AlertingDeps): Alerting {
  const clock = d.clock ?? Date.now;
  const events = new AlertEvents();
  const alerts = new AlertStore(d.db);
  const tickets = new TicketStore(d.db, d.reopenWindowMs);
  const audit = new AuditLog(d.db, clock);
  const escalation = new EscalationScheduler({ db: d.db, tickets, registry: d.registry, policyFile: d.escalationPolicies, audit, events, log: d.log, clock });
  const replacements = new ReplacementService({ db: d.db, tickets, registry: d.registry, audit, events });
  const silences = new SilenceStore(d.db, clock);
  // One `ticket` point per ticket transition, written the way alert points are (docs/influxdb.md).
  const ticketPoints = attachTicketPoints(events, d.writePoint, d.log);
  // Registered devices per site, for the site-outage threshold; recounted when the registry changes.
  let perSite = countBySite(d.registry);
  d.registry.onDevicesChanged(() => (perSite = countBySite(d.registry)));
  const siteOutages = new SiteOutages(alerts, (siteId) => perSite.get(siteId) ?? 0);
  const manager = new AlertManager({
    alerts,
    silences,
    siteOutages,
    tickets,
    events,
    audit,
    writePoint: d.writePoint,
    log: d.log,
    cloudIncidents: new CloudIncidents(alerts, tickets, d.cloudIncidents),
    ticketHooks: {
      opened: (ticket, _info, now) => escalation.opened(ticket, now),
      hardwareConfirmed: (ticket, info, now) => replacements.hardwareFault(ticket, info.tenant, info.fault, now),
      resolved: (ticket, now) => escalation.resolved(ticket, now),
    },
  });
  const evaluator = new AlertEvaluator(d.rules, manager, d.resolve, d.log, clock);
  const firing = alerts.allFiring();
  evaluator.restore(firing);
  manager.restoreMuted(firing);
  if (firing.length > 0) d.log.info({ firing: firing.length }, 'alerts still firing from before the restart');
  evaluator.attach(d.ingest, d.sweepEveryMs);
  escalation.start(d.sweepEveryMs);
  return {
    events,
    alerts,
    tickets,
    audit,
    evaluator,
    escalation,
    replacements,
    silences,
    openManualTicket(t, actor) {
      const now = clock();
      const ticket = tickets.createManual(t, actor, now);
      audit.append({ actor, action: 'ticket.opened', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { manual: true, priority: ticket.priority } });
      events.emit('ticket.created', { ...events.meta(now, ticket), ticket });
      escalation.opened(ticket, now);
      return ticket;
    },
    stop: () => {
      evaluator.stop();
      escalation.stop();
      ticketPoints.detach();
    },
  };
}

function countBySite(registry: Registry): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of registry.deviceTenants().values()) counts.set(t.siteId, (counts.get(t.siteId) ?? 0) + 1);
  return counts;
}
