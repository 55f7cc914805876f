// Alerting, wired: rules evaluated in the ingest stream, alert states and tickets in the relational
// store, the audit log, and the event bus the API layer listens to. Started by src/service.ts.
import type { Logger } from 'pino';
import type { IngestEvents } from '../collector/ingest-events.js';
import type { Attribution } from '../collector/tenant-tags.js';
import type { Database } from '../src/storage/database.js';
import { AlertManager } from './alerts/alert-manager.js';
import { AlertStore } from './alerts/alert-store.js';
import { AuditLog } from './audit/audit-log.js';
import { AlertEvaluator } from './evaluator.js';
import { AlertEvents } from './events.js';
import type { RuleSet } from './rules/rule-set.js';
import { TicketStore } from './tickets/ticket-store.js';

export interface AlertingDeps {
  db: Database;
  ingest: IngestEvents;
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
  stop(): void;
}

export function startAlerting(d: AlertingDeps): Alerting {
  const clock = d.clock ?? Date.now;
  const events = new AlertEvents();
  const alerts = new AlertStore(d.db);
  const tickets = new TicketStore(d.db, d.reopenWindowMs);
  const audit = new AuditLog(d.db, clock);
  const manager = new AlertManager({ alerts, tickets, events, audit, writePoint: d.writePoint, log: d.log });
  const evaluator = new AlertEvaluator(d.rules, manager, d.resolve, d.log, clock);
  const firing = alerts.allFiring();
  evaluator.restore(firing);
  if (firing.length > 0) d.log.info({ firing: firing.length }, 'alerts still firing from before the restart');
  evaluator.attach(d.ingest, d.sweepEveryMs);
  return { events, alerts, tickets, audit, evaluator, stop: () => evaluator.stop() };
}
