// What happens when a rule changes state for a device: the alert record, the notification (once:
// the notification log in the alert record), the ticket, the `alert` point in InfluxDB and the
// audit entry. Every side effect of an alert transition is here, in this order.
import type { Logger } from 'pino';
import { escapeFieldString } from '../../collector/line-protocol.js';
import type { Attribution } from '../../collector/tenant-tags.js';
import type { AlertEvents } from '../events.js';
import type { CloudIncidents } from '../incidents/cloud-incidents.js';
import type { SilenceStore } from '../silences/silence-store.js';
import type { DeviceTenant } from '../../src/storage/registry.js';
import { INHIBITED_BY_SITE_OUTAGE, SITE_DOWN_RULES, SITE_RULE, siteFingerprint, type SiteOutages } from '../inhibit/site-outage.js';
import type { Rule } from '../rules/rule-schema.js';
import type { Coverage, Priority, Ticket, TicketStore } from '../tickets/ticket-store.js';
import type { AlertRecord, AlertStore, Severity } from './alert-store.js';

export interface AuditSink {
  append(entry: { actor: string; action: string; subject: string; partnerId: string | null; data?: Record<string, unknown> }): unknown;
}

export interface AlertManagerDeps {
  alerts: AlertStore;
  tickets: TicketStore;
  events: AlertEvents;
  audit: AuditSink;
  /** Stages a line-protocol line for InfluxDB (the collector's journal). */
  writePoint: (line: string) => void;
  log: Logger;
  /** Told when a ticket opens or reopens, and when it resolves (escalation, replacement). */
  ticketHooks?: TicketHooks;
  /** Cloud registration losses across customers become one cloud-partner incident. */
  cloudIncidents?: CloudIncidents;
  /** Silences and maintenance windows. */
  silences?: SilenceStore;
  /** Site network outages, which inhibit the network alerts of the devices under them. */
  siteOutages?: SiteOutages;
}

export interface TicketHooks {
  /** `hardware`: opened by a hardware rule; `fault`: the failed part. */
  opened(ticket: Ticket, info: { hardware: boolean; tenant: DeviceTenant | undefined; fault: string }, now: number): void;
  /** A hardware fault kept firing for its confirmation window: time for the advance replacement. */
  hardwareConfirmed(ticket: Ticket, info: { tenant: DeviceTenant | undefined; fault: string }, now: number): void;
  resolved(ticket: Ticket, now: number): void;
}

const PRIORITY_OF: Record<Severity, Priority> = { critical: 'P2', warning: 'P3', info: 'P4' };

export function fingerprintOf(rule: string, deviceId: string): string {
  return `${rule}/${deviceId}`;
}

export function coverageOf(a: Attribution, now: number): Coverage {
  if (!a.tenant) return 'unknown';
  const until = a.tenant.coverage.until;
  return until === null || until >= new Date(now).toISOString().slice(0, 10) ? 'covered' : 'uncovered';
}

export class AlertManager {
  constructor(private readonly d: AlertManagerDeps) {}

  /** Firing alerts held back by a silence or maintenance window: announced when it ends. */
  private readonly muted = new Set<string>();
  /**
   * When muted alerts need another look: something that held them back may have ended (a silence
   * ended or was changed, a site came back). Looking at thousands of held-back alerts every second
   * for nothing (a site outage of a large fleet) would keep the loop busy.
   */
  private mutedDirty = true;
  private mutedRecheckAt = 0;
  private seenSilenceVersion = -1;

  /** After a restart: firing alerts that were never announced are still held back. */
  restoreMuted(firing: AlertRecord[]): void {
    for (const a of firing) if (a.notifiedState !== 'firing') this.muted.add(a.fingerprint);
    this.mutedDirty = true;
  }

  /** `provider`: the device's cloud provider, for cloud registration rules. */
  firing(rule: Rule, deviceId: string, a: Attribution, summary: string, value: number | undefined, now: number, fault: string = rule.name, provider?: string): AlertRecord {
    const fingerprint = fingerprintOf(rule.name, deviceId);
    const t = a.tenant;
    const alert = this.d.alerts.fire(
      { fingerprint, rule: rule.name, deviceId, partnerId: t?.partnerId ?? null, customerId: t?.customerId ?? null, siteId: t?.siteId ?? null, severity: rule.severity, summary, value: value ?? null, startedMs: now },
      now,
    );
    this.d.writePoint(alertLine(a, rule, true, value, summary, now));
    this.d.audit.append({ actor: 'system', action: 'alert.firing', subject: `alert:${fingerprint}`, partnerId: alert.partnerId, data: { rule: rule.name, deviceId, summary, value: value ?? null } });
    if (alert.siteId !== null && SITE_DOWN_RULES.has(rule.name)) this.checkSiteDown(alert, now);
    const silence = this.d.silences?.muting({ partnerId: alert.partnerId, customerId: alert.customerId, siteId: alert.siteId, deviceId, rule: rule.name }, now);
    if (silence) {
      this.muted.add(fingerprint);
      this.d.audit.append({ actor: 'system', action: 'alert.muted', subject: `alert:${fingerprint}`, partnerId: alert.partnerId, data: { silence: silence.id, kind: silence.kind, until: silence.endsMs } });
      return alert;
    }
    if (this.d.siteOutages?.isInhibiting(alert.siteId, rule.name)) {
      this.muted.add(fingerprint);
      const site = this.d.alerts.get(siteFingerprint(alert.siteId!));
      if (site?.ticketId) this.d.alerts.linkIncident(fingerprint, site.ticketId);
      this.d.audit.append({ actor: 'system', action: 'alert.inhibited', subject: `alert:${fingerprint}`, partnerId: alert.partnerId, data: { by: site?.fingerprint ?? null } });
      return this.d.alerts.get(fingerprint)!;
    }
    return this.announce(rule, deviceId, a, alert, fault, provider, now);
  }

  /**
   * Announces held-back alerts whose silence has ended and that still fire. `lookup` gives what
   * the evaluator knows of the device now (rule for its partner, attribution, fault, provider).
   */
  releaseMuted(now: number, lookup: (rule: string, deviceId: string) => { rule: Rule; a: Attribution; fault: string; provider: string | undefined } | undefined): void {
    const silenceVersion = this.d.silences?.version ?? 0;
    if (!this.mutedDirty && silenceVersion === this.seenSilenceVersion && now < this.mutedRecheckAt) return;
    this.mutedDirty = false;
    this.seenSilenceVersion = silenceVersion;
    this.mutedRecheckAt = this.d.silences?.nextEndAfter(now) ?? Number.POSITIVE_INFINITY;
    for (const fingerprint of this.muted) {
      const alert = this.d.alerts.get(fingerprint);
      if (!alert || alert.state !== 'firing' || alert.deviceId === null) {
        this.muted.delete(fingerprint);
        continue;
      }
      if (this.d.silences?.muting({ partnerId: alert.partnerId, customerId: alert.customerId, siteId: alert.siteId, deviceId: alert.deviceId, rule: alert.rule }, now)) continue;
      if (this.d.siteOutages?.isInhibiting(alert.siteId, alert.rule)) continue;
      const found = lookup(alert.rule, alert.deviceId);
      if (!found) continue;
      this.muted.delete(fingerprint);
      this.announce(found.rule, alert.deviceId, found.a, alert, found.fault, found.provider, now);
    }
  }

  get mutedCount(): number {
    return this.muted.size;
  }

  /** The notification (once) and the ticket or incident of a firing alert. */
  private announce(rule: Rule, deviceId: string, a: Attribution, alert: AlertRecord, fault: string, provider: string | undefined, now: number): AlertRecord {
    const fingerprint = alert.fingerprint;
    const who = { partnerId: alert.partnerId, customerId: alert.customerId, deviceId };
    if (alert.notifiedState !== 'firing') {
      this.d.events.emit('alert.firing', { ...this.d.events.meta(now, who), alert });
      this.d.alerts.notified(fingerprint, 'firing');
    }
    const isCloudLoss = rule.kind === 'flag' && rule.field === 'cloudRegistered' && provider !== undefined;
    if (isCloudLoss && this.d.cloudIncidents && this.joinIncident(rule, a, alert, provider!, now)) return this.d.alerts.get(fingerprint)!;
    if (rule.ticket) this.openTicket(rule, deviceId, a, alert, fault, now);
    return this.d.alerts.get(fingerprint)!;
  }

  /** What a firing alert says changed (a flapping device's count): the record follows, nothing is announced again. */
  refresh(rule: Rule, deviceId: string, summary: string, value: number | undefined, now: number): void {
    this.d.alerts.refresh(fingerprintOf(rule.name, deviceId), summary, value ?? null, now);
  }

  /**
   * A hardware fault has lasted its confirmation window. Returns false when there is no ticket to
   * act on yet (the alert is held back by a silence): asked again later.
   */
  hardwareConfirmed(rule: Rule, deviceId: string, a: Attribution, fault: string, now: number): boolean {
    const alert = this.d.alerts.get(fingerprintOf(rule.name, deviceId));
    const ticket = alert?.ticketId != null ? this.d.tickets.get(alert.ticketId) : undefined;
    if (!ticket || ticket.status === 'resolved') return false;
    if (fault === 'disconnected') {
      this.d.tickets.event(ticket.id, now, 'system', 'replacement_not_needed', 'A peripheral is disconnected, not broken: no replacement ships. Check its cable and connection.');
      this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, ticket), ticket, change: 'triage' });
      return true;
    }
    this.hook(() => this.d.ticketHooks?.hardwareConfirmed(ticket, { tenant: a.tenant, fault }, now));
    return true;
  }

  resolved(rule: Rule, deviceId: string, a: Attribution, now: number): AlertRecord | undefined {
    const fingerprint = fingerprintOf(rule.name, deviceId);
    const before = this.d.alerts.get(fingerprint);
    if (!before || before.state === 'resolved') return before;
    const alert = this.d.alerts.resolve(fingerprint, `Resolved: ${before.summary}`, now)!;
    const who = { partnerId: alert.partnerId, customerId: alert.customerId, deviceId };
    this.d.writePoint(alertLine(a, rule, false, undefined, alert.summary, now));
    this.d.audit.append({ actor: 'system', action: 'alert.resolved', subject: `alert:${fingerprint}`, partnerId: who.partnerId, data: { rule: rule.name, deviceId } });
    // Only what was announced is announced as resolved: a muted alert ends in silence.
    this.muted.delete(fingerprint);
    if (alert.notifiedState === 'firing') {
      this.d.events.emit('alert.resolved', { ...this.d.events.meta(now, who), alert });
      this.d.alerts.notified(fingerprint, 'resolved');
    }
    if (before.incidentId !== null && this.d.cloudIncidents) {
      const incident = this.d.cloudIncidents.alertResolved(before.incidentId, now);
      if (incident) {
        this.d.audit.append({ actor: 'system', action: 'incident.resolved', subject: `ticket:${incident.id}`, partnerId: null, data: {} });
        this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, incident), ticket: incident, change: 'resolved' });
        this.hook(() => this.d.ticketHooks?.resolved(incident, now));
      }
    }
    const ticket = this.d.tickets.resolveFor(fingerprint, now, 'system', `The alert resolved itself: ${before.summary}`);
    if (alert.siteId !== null && SITE_DOWN_RULES.has(rule.name)) this.checkSiteUp(alert.siteId, now);
    if (ticket) {
      this.d.audit.append({ actor: 'system', action: 'ticket.resolved', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { reason: 'alert resolved', fingerprint } });
      this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, who), ticket, change: 'resolved' });
      this.hook(() => this.d.ticketHooks?.resolved(ticket, now));
    }
    return alert;
  }

  private openTicket(rule: Rule, deviceId: string, a: Attribution, alert: AlertRecord, fault: string, now: number): void {
    const t = a.tenant;
    const coverage = coverageOf(a, now);
    const { ticket, outcome } = this.d.tickets.openForAlert(
      {
        dedupKey: alert.fingerprint,
        partnerId: t?.partnerId ?? null,
        customerId: t?.customerId ?? null,
        siteId: t?.siteId ?? null,
        deviceId,
        title: `${alert.summary} (${a.model} ${deviceId})`,
        priority: rule.priority ?? PRIORITY_OF[rule.severity],
        // Unregistered devices have no partner yet: the NOC finds out whose they are.
        queue: t ? 'partner_l1' : 'noc',
        coverage,
        note: alert.summary + (coverage === 'uncovered' ? ' — device not covered: no advance replacement' : ''),
      },
      now,
    );
    this.d.alerts.linkTicket(alert.fingerprint, ticket.id);
    const who = { partnerId: ticket.partnerId, customerId: ticket.customerId, deviceId };
    if (outcome === 'created') {
      this.d.audit.append({ actor: 'system', action: 'ticket.opened', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { fingerprint: alert.fingerprint, priority: ticket.priority, coverage } });
      this.d.events.emit('ticket.created', { ...this.d.events.meta(now, who), ticket });
    } else if (outcome === 'reopened') {
      this.d.audit.append({ actor: 'system', action: 'ticket.reopened', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { fingerprint: alert.fingerprint } });
      this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, who), ticket, change: 'reopened' });
    }
    if (outcome !== 'annotated') this.hook(() => this.d.ticketHooks?.opened(ticket, { hardware: rule.replacement === 'hardware', tenant: a.tenant, fault }, now));
  }

  /** Enough of the site's devices are down: one site alert and ticket; earlier device tickets merge into it. */
  private checkSiteDown(trigger: AlertRecord, now: number): void {
    const outages = this.d.siteOutages;
    const siteId = trigger.siteId!;
    if (!outages || outages.isInhibiting(siteId, 'device_offline') || !outages.isDown(siteId)) return;
    const fingerprint = siteFingerprint(siteId);
    const down = outages.downCount(siteId);
    const who = { partnerId: trigger.partnerId, customerId: trigger.customerId, deviceId: null };
    const siteAlert = this.d.alerts.fire(
      { fingerprint, rule: SITE_RULE, deviceId: null, partnerId: trigger.partnerId, customerId: trigger.customerId, siteId, severity: 'critical', summary: `Site network down: ${down} devices unreachable`, value: down, startedMs: now },
      now,
    );
    this.d.audit.append({ actor: 'system', action: 'alert.firing', subject: `alert:${fingerprint}`, partnerId: who.partnerId, data: { rule: SITE_RULE, siteId, down } });
    this.d.events.emit('alert.firing', { ...this.d.events.meta(now, who), alert: siteAlert });
    this.d.alerts.notified(fingerprint, 'firing');
    const { ticket, outcome } = this.d.tickets.openForAlert(
      { dedupKey: fingerprint, partnerId: who.partnerId, customerId: who.customerId, siteId, deviceId: null, title: `Site network down (site ${siteId}): ${down} devices unreachable`, priority: 'P1', queue: 'partner_l1', coverage: 'covered', note: siteAlert.summary },
      now,
    );
    this.d.alerts.linkTicket(fingerprint, ticket.id);
    if (outcome !== 'annotated') {
      this.d.audit.append({ actor: 'system', action: outcome === 'created' ? 'ticket.opened' : 'ticket.reopened', subject: `ticket:${ticket.id}`, partnerId: ticket.partnerId, data: { fingerprint } });
      this.d.events.emit(outcome === 'created' ? 'ticket.created' : 'ticket.updated', { ...this.d.events.meta(now, who), ticket, change: outcome } as never);
      this.hook(() => this.d.ticketHooks?.opened(ticket, { hardware: false, tenant: undefined, fault: SITE_RULE }, now));
    }
    for (const device of this.d.alerts.firingAtSite(siteId, [...INHIBITED_BY_SITE_OUTAGE])) {
      this.d.alerts.linkIncident(device.fingerprint, ticket.id);
      const merged = this.d.tickets.resolveFor(device.fingerprint, now, 'system', `Merged into site ticket #${ticket.id}`);
      if (merged) {
        this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, merged), ticket: merged, change: 'merged' });
        this.hook(() => this.d.ticketHooks?.resolved(merged, now));
      }
    }
  }

  /** The site is below the threshold again: its alert and ticket resolve; device alerts still firing are announced by the sweep. */
  private checkSiteUp(siteId: string, now: number): void {
    const outages = this.d.siteOutages;
    const fingerprint = siteFingerprint(siteId);
    const site = this.d.alerts.get(fingerprint);
    if (!outages || site?.state !== 'firing' || outages.isDown(siteId)) return;
    const resolved = this.d.alerts.resolve(fingerprint, `Resolved: ${site.summary}`, now)!;
    this.mutedDirty = true; // the site's device alerts are no longer inhibited: the sweep announces them
    const who = { partnerId: site.partnerId, customerId: site.customerId, deviceId: null };
    this.d.audit.append({ actor: 'system', action: 'alert.resolved', subject: `alert:${fingerprint}`, partnerId: site.partnerId, data: { rule: SITE_RULE, siteId } });
    this.d.events.emit('alert.resolved', { ...this.d.events.meta(now, who), alert: resolved });
    this.d.alerts.notified(fingerprint, 'resolved');
    // Devices still down on their own are announced (or get their ticket back) by the next sweep.
    for (const d of this.d.alerts.firingAtSite(siteId, [...INHIBITED_BY_SITE_OUTAGE])) this.muted.add(d.fingerprint);
    const ticket = this.d.tickets.resolveFor(fingerprint, now, 'system', 'The site network is back');
    if (ticket) {
      this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, who), ticket, change: 'resolved' });
      this.hook(() => this.d.ticketHooks?.resolved(ticket, now));
    }
  }

  /** True when the alert became part of a cloud-partner incident (and needs no ticket of its own). */
  private joinIncident(rule: Rule, a: Attribution, alert: AlertRecord, provider: string, now: number): boolean {
    const outcome = this.d.cloudIncidents!.registrationLost(provider, alert.fingerprint, a.tenant?.customerId ?? null, now);
    const incident = outcome.incident;
    if (!incident) return false;
    if (outcome.created) {
      this.d.audit.append({ actor: 'system', action: 'incident.opened', subject: `ticket:${incident.id}`, partnerId: null, data: { provider, queue: incident.queue } });
      this.d.events.emit('ticket.created', { ...this.d.events.meta(now, { partnerId: null, customerId: null, deviceId: null }), ticket: incident });
      this.hook(() => this.d.ticketHooks?.opened(incident, { hardware: false, tenant: undefined, fault: provider }, now));
    }
    for (const merged of outcome.merged) {
      this.d.audit.append({ actor: 'system', action: 'ticket.merged', subject: `ticket:${merged.id}`, partnerId: merged.partnerId, data: { incident: incident.id } });
      this.d.events.emit('ticket.updated', { ...this.d.events.meta(now, merged), ticket: merged, change: 'merged' });
      this.hook(() => this.d.ticketHooks?.resolved(merged, now));
    }
    this.d.audit.append({ actor: 'system', action: 'alert.linked', subject: `alert:${alert.fingerprint}`, partnerId: a.tenant?.partnerId ?? null, data: { incident: incident.id } });
    return true;
  }

  /** A failing hook (escalation, replacement) must not undo the alert and ticket already recorded. */
  private hook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.d.log.error({ err }, 'ticket follow-up failed');
    }
  }
}

function alertLine(a: Attribution, rule: Rule, firing: boolean, value: number | undefined, summary: string, now: number): string {
  let fields = `firing=${firing ? 'true' : 'false'},summary="${escapeFieldString(summary)}"`;
  if (value !== undefined) fields += `,value=${value}`;
  return `alert,${a.tagSet},rule=${rule.name},severity=${rule.severity} ${fields} ${now}\n`;
}
