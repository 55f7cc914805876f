// Alert states in the relational store: what is firing survives a restart, and `notified_state`
// (the notification log) says what was already sent, so a restart does not send it again.
import type { Database, Statement } from '../../src/storage/database.js';
import { whereEquals } from '../../src/storage/where.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface AlertRecord {
  fingerprint: string;
  rule: string;
  deviceId: string | null;
  partnerId: string | null;
  customerId: string | null;
  siteId: string | null;
  severity: Severity;
  state: 'firing' | 'resolved';
  summary: string;
  value: number | null;
  startedMs: number;
  resolvedMs: number | null;
  updatedMs: number;
  notifiedState: 'firing' | 'resolved' | null;
  ticketId: number | null;
  /** The cloud-partner incident ticket this alert is part of. */
  incidentId: number | null;
}

interface Row {
  fingerprint: string;
  rule: string;
  device_id: string | null;
  partner_id: string | null;
  customer_id: string | null;
  site_id: string | null;
  severity: Severity;
  state: 'firing' | 'resolved';
  summary: string;
  value: number | null;
  started_ms: number;
  resolved_ms: number | null;
  updated_ms: number;
  notified_state: 'firing' | 'resolved' | null;
  ticket_id: number | null;
  incident_id: number | null;
}

const toRecord = (r: Row): AlertRecord => ({
  fingerprint: r.fingerprint,
  rule: r.rule,
  deviceId: r.device_id,
  partnerId: r.partner_id,
  customerId: r.customer_id,
  siteId: r.site_id,
  severity: r.severity,
  state: r.state,
  summary: r.summary,
  value: r.value,
  startedMs: r.started_ms,
  resolvedMs: r.resolved_ms,
  updatedMs: r.updated_ms,
  notifiedState: r.notified_state,
  ticketId: r.ticket_id,
  incidentId: r.incident_id,
});

/** Firing alerts grouped by what they have in common: one line on a NOC wall instead of hundreds. */
export interface AlertGroup {
  /** partner/customer/site/rule; `-` for what an alert does not have (unregistered devices). */
  key: string;
  partnerId: string | null;
  customerId: string | null;
  siteId: string | null;
  rule: string;
  severity: Severity;
  firing: number;
  /** Up to 20 device ids, for a first look. */
  devices: string[];
  since: number;
}

export class AlertStore {
  private readonly upsertFiring: Statement;
  private readonly markResolved: Statement;
  private readonly markNotified: Statement;
  private readonly setTicket: Statement;
  private readonly byFingerprint: Statement<Row>;
  private readonly firing: Statement<Row>;

  constructor(private readonly db: Database) {
    this.upsertFiring = db.prepare(
      `INSERT INTO alerts (fingerprint, rule, device_id, partner_id, customer_id, site_id, severity, state, summary, value, started_ms, resolved_ms, updated_ms, notified_state, ticket_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'firing', ?, ?, ?, NULL, ?, NULL, NULL)
       ON CONFLICT (fingerprint) DO UPDATE SET state = 'firing', severity = excluded.severity, summary = excluded.summary, value = excluded.value,
         partner_id = excluded.partner_id, customer_id = excluded.customer_id, site_id = excluded.site_id,
         started_ms = excluded.started_ms, resolved_ms = NULL, updated_ms = excluded.updated_ms, incident_id = NULL`,
    );
    this.markResolved = db.prepare(`UPDATE alerts SET state = 'resolved', resolved_ms = ?, updated_ms = ?, summary = ? WHERE fingerprint = ?`);
    this.markNotified = db.prepare(`UPDATE alerts SET notified_state = ? WHERE fingerprint = ?`);
    this.setTicket = db.prepare(`UPDATE alerts SET ticket_id = ? WHERE fingerprint = ?`);
    this.byFingerprint = db.prepare<Row>(`SELECT * FROM alerts WHERE fingerprint = ?`);
    this.firing = db.prepare<Row>(`SELECT * FROM alerts WHERE state = 'firing'`);
  }

  fire(a: Omit<AlertRecord, 'state' | 'resolvedMs' | 'notifiedState' | 'ticketId' | 'updatedMs' | 'incidentId'>, now: number): AlertRecord {
    this.upsertFiring.run(a.fingerprint, a.rule, a.deviceId, a.partnerId, a.customerId, a.siteId, a.severity, a.summary, a.value, a.startedMs, now);
    return this.get(a.fingerprint)!;
  }

  resolve(fingerprint: string, summary: string, now: number): AlertRecord | undefined {
    this.markResolved.run(now, now, summary, fingerprint);
    return this.get(fingerprint);
  }

  /** A firing alert's summary and value changed (nothing else: it is the same alert). */
  refresh(fingerprint: string, summary: string, value: number | null, now: number): void {
    this.db.prepare(`UPDATE alerts SET summary = ?, value = ?, updated_ms = ? WHERE fingerprint = ? AND state = 'firing'`).run(summary, value, now, fingerprint);
  }

  notified(fingerprint: string, state: 'firing' | 'resolved'): void {
    this.markNotified.run(state, fingerprint);
  }

  linkTicket(fingerprint: string, ticketId: number): void {
    this.setTicket.run(ticketId, fingerprint);
  }

  linkIncident(fingerprint: string, incidentTicketId: number): void {
    this.db.prepare(`UPDATE alerts SET incident_id = ? WHERE fingerprint = ?`).run(incidentTicketId, fingerprint);
  }

  /** Distinct devices of a site with a firing alert of one of `rules`. */
  firingDevicesAtSite(siteId: string, rules: string[]): number {
    const marks = rules.map(() => '?').join(', ');
    return this.db.prepare<{ n: number }>(`SELECT COUNT(DISTINCT device_id) AS n FROM alerts WHERE site_id = ? AND state = 'firing' AND rule IN (${marks})`).get(siteId, ...rules)?.n ?? 0;
  }

  /** Firing alerts of a site whose rule is one of `rules`. */
  firingAtSite(siteId: string, rules: string[]): AlertRecord[] {
    const marks = rules.map(() => '?').join(', ');
    return this.db.prepare<Row>(`SELECT * FROM alerts WHERE site_id = ? AND state = 'firing' AND rule IN (${marks})`).all(siteId, ...rules).map(toRecord);
  }

  /** How many alerts linked to an incident are still firing. */
  firingInIncident(incidentTicketId: number): number {
    return this.db.prepare<{ n: number }>(`SELECT COUNT(*) AS n FROM alerts WHERE incident_id = ? AND state = 'firing'`).get(incidentTicketId)?.n ?? 0;
  }

  get(fingerprint: string): AlertRecord | undefined {
    const r = this.byFingerprint.get(fingerprint);
    return r && toRecord(r);
  }

  allFiring(): AlertRecord[] {
    return this.firing.all().map(toRecord);
  }

  /** Firing alerts per device (devices without any are left out): one small query for fleet-wide counts. */
  firingCountByDevice(partnerId?: string): Map<string, number> {
    const rows = this.db
      .prepare<{ device_id: string; n: number }>(
        `SELECT device_id, COUNT(*) AS n FROM alerts WHERE state = 'firing' AND device_id IS NOT NULL ${partnerId !== undefined ? 'AND partner_id = ?' : ''} GROUP BY device_id`,
      )
      .all(...(partnerId !== undefined ? [partnerId] : []));
    return new Map(rows.map((r) => [r.device_id, r.n]));
  }

  /** Firing alerts grouped by partner, customer, site and rule (a partner sees only its own). */
  groups(filter: { partnerId?: string } = {}): AlertGroup[] {
    const rows = this.db
      .prepare<{ partner_id: string | null; customer_id: string | null; site_id: string | null; rule: string; severity: Severity; firing: number; devices: string | null; since: number }>(
        `SELECT partner_id, customer_id, site_id, rule, severity, COUNT(*) AS firing,
                GROUP_CONCAT(device_id) AS devices, MIN(started_ms) AS since
         FROM alerts WHERE state = 'firing' ${filter.partnerId !== undefined ? 'AND partner_id = ?' : ''}
         GROUP BY partner_id, customer_id, site_id, rule ORDER BY firing DESC, since LIMIT 1000`,
      )
      .all(...(filter.partnerId !== undefined ? [filter.partnerId] : []));
    return rows.map((r) => ({
      key: [r.partner_id ?? '-', r.customer_id ?? '-', r.site_id ?? '-', r.rule].join('/'),
      partnerId: r.partner_id,
      customerId: r.customer_id,
      siteId: r.site_id,
      rule: r.rule,
      severity: r.severity,
      firing: r.firing,
      devices: (r.devices ?? '').split(',').filter(Boolean).slice(0, 20),
      since: r.since,
    }));
  }

  list(filter: { partnerId?: string; state?: 'firing' | 'resolved'; deviceId?: string; limit?: number } = {}): AlertRecord[] {
    const w = whereEquals([['partner_id', filter.partnerId], ['state', filter.state], ['device_id', filter.deviceId]]);
    return this.db.prepare<Row>(`SELECT * FROM alerts ${w.sql} ORDER BY updated_ms DESC LIMIT ?`).all(...w.params, Math.min(filter.limit ?? 100, 1000)).map(toRecord);
  }
}
