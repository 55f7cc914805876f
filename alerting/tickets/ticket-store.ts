// Tickets in the relational store. An alert opens at most one open ticket per dedup key, whatever
// races: the unique index tickets_open_dedup refuses a second, and the loser annotates the winner.
import type { Database, Statement } from '../../src/storage/database.js';
import { whereEquals } from '../../src/storage/where.js';

export type Priority = 'P1' | 'P2' | 'P3' | 'P4';
export type TicketStatus = 'open' | 'acknowledged' | 'escalated' | 'resolved';
export type Coverage = 'covered' | 'uncovered' | 'unknown';

export interface Ticket {
  id: number;
  dedupKey: string | null;
  kind: 'alert' | 'manual' | 'cloud_incident';
  partnerId: string | null;
  customerId: string | null;
  siteId: string | null;
  deviceId: string | null;
  title: string;
  priority: Priority;
  status: TicketStatus;
  queue: string;
  coverage: Coverage;
  openedMs: number;
  updatedMs: number;
  resolvedMs: number | null;
  reopened: number;
  acknowledgedMs: number | null;
  /** The person who owns it, once assigned. */
  owner: string | null;
}

export interface TicketEvent {
  id: number;
  ticketId: number;
  tsMs: number;
  actor: string;
  type: string;
  body: string;
  data: Record<string, unknown> | null;
}

export interface NewAlertTicket {
  dedupKey: string;
  partnerId: string | null;
  customerId: string | null;
  siteId: string | null;
  deviceId: string | null;
  title: string;
  priority: Priority;
  queue: string;
  coverage: Coverage;
  /** What the alert says now; goes into the ticket history. */
  note: string;
}

export type OpenOutcome = 'created' | 'reopened' | 'annotated';

interface Row {
  id: number;
  dedup_key: string | null;
  kind: Ticket['kind'];
  partner_id: string | null;
  customer_id: string | null;
  site_id: string | null;
  device_id: string | null;
  title: string;
  priority: Priority;
  status: TicketStatus;
  queue: string;
  coverage: Coverage;
  opened_ms: number;
  updated_ms: number;
  resolved_ms: number | null;
  reopened: number;
  acknowledged_ms: number | null;
  owner: string | null;
  escalation: string | null;
  next_wake_ms: number | null;
}

const toTicket = (r: Row): Ticket => ({
  id: r.id,
  dedupKey: r.dedup_key,
  kind: r.kind,
  partnerId: r.partner_id,
  customerId: r.customer_id,
  siteId: r.site_id,
  deviceId: r.device_id,
  title: r.title,
  priority: r.priority,
  status: r.status,
  queue: r.queue,
  coverage: r.coverage,
  openedMs: r.opened_ms,
  updatedMs: r.updated_ms,
  resolvedMs: r.resolved_ms,
  reopened: r.reopened,
  acknowledgedMs: r.acknowledged_ms,
  owner: r.owner,
});

export class TicketStore {
  private readonly openByKey: Statement<Row>;
  private readonly lastResolvedByKey: Statement<Row>;
  private readonly insert: Statement;
  private readonly byId: Statement<Row>;
  private readonly setStatus: Statement;
  private readonly reopen: Statement;
  private readonly addEvent: Statement;
  private readonly eventsOf: Statement<{ id: number; ticket_id: number; ts_ms: number; actor: string; type: string; body: string; data: string | null }>;

  constructor(
    private readonly db: Database,
    /** A ticket resolved less than this long ago is reopened instead of a new one being opened. */
    private readonly reopenWindowMs: number,
  ) {
    this.openByKey = db.prepare<Row>(`SELECT * FROM tickets WHERE dedup_key = ? AND status <> 'resolved'`);
    this.lastResolvedByKey = db.prepare<Row>(`SELECT * FROM tickets WHERE dedup_key = ? AND status = 'resolved' ORDER BY id DESC LIMIT 1`);
    this.insert = db.prepare(
      `INSERT INTO tickets (dedup_key, kind, partner_id, customer_id, site_id, device_id, title, priority, status, queue, coverage, opened_ms, updated_ms)
       VALUES (?, 'alert', ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
    );
    this.byId = db.prepare<Row>(`SELECT * FROM tickets WHERE id = ?`);
    this.setStatus = db.prepare(`UPDATE tickets SET status = ?, updated_ms = ?, resolved_ms = ? WHERE id = ?`);
    this.reopen = db.prepare(`UPDATE tickets SET status = 'open', updated_ms = ?, resolved_ms = NULL, reopened = reopened + 1 WHERE id = ?`);
    this.addEvent = db.prepare(`INSERT INTO ticket_events (ticket_id, ts_ms, actor, type, body, data) VALUES (?, ?, ?, ?, ?, ?)`);
    this.eventsOf = db.prepare(`SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id`);
  }

  get(id: number): Ticket | undefined {
    const r = this.byId.get(id);
    return r && toTicket(r);
  }

  openFor(key: string): Ticket | undefined {
    const r = this.openByKey.get(key);
    return r && toTicket(r);
  }

  /** Opens (or reopens, or annotates) the ticket of an alert. Idempotent per dedup key. */
  openForAlert(t: NewAlertTicket, now: number): { ticket: Ticket; outcome: OpenOutcome } {
    return this.db.transaction(() => {
      const open = this.openByKey.get(t.dedupKey);
      if (open) {
        this.event(open.id, now, 'system', 'annotated', t.note);
        return { ticket: toTicket(open), outcome: 'annotated' as const };
      }
      const last = this.lastResolvedByKey.get(t.dedupKey);
      if (last && last.resolved_ms !== null && now - last.resolved_ms < this.reopenWindowMs) {
        this.reopen.run(now, last.id);
        this.event(last.id, now, 'system', 'reopened', t.note);
        return { ticket: this.get(last.id)!, outcome: 'reopened' as const };
      }
      try {
        const id = Number(this.insert.run(t.dedupKey, t.partnerId, t.customerId, t.siteId, t.deviceId, t.title, t.priority, t.queue, t.coverage, now, now).lastInsertRowid);
        this.event(id, now, 'system', 'opened', t.note);
        return { ticket: this.get(id)!, outcome: 'created' as const };
      } catch (err) {
        // Another writer (a second collector on the same database) opened it first.
        if (!String((err as Error).message).includes('UNIQUE')) throw err;
        const winner = this.openByKey.get(t.dedupKey)!;
        this.event(winner.id, now, 'system', 'annotated', t.note);
        return { ticket: toTicket(winner), outcome: 'annotated' as const };
      }
    });
  }

  /** A ticket a person opened (no alert behind it, so no dedup key). */
  createManual(t: Omit<NewAlertTicket, 'dedupKey' | 'note'> & { description: string }, actor: string, now: number): Ticket {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(`INSERT INTO tickets (dedup_key, kind, partner_id, customer_id, site_id, device_id, title, priority, status, queue, coverage, opened_ms, updated_ms) VALUES (NULL, 'manual', ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`)
          .run(t.partnerId, t.customerId, t.siteId, t.deviceId, t.title, t.priority, t.queue, t.coverage, now, now).lastInsertRowid,
      );
      this.event(id, now, actor, 'opened', t.description);
      return this.get(id)!;
    });
  }

  /** Resolves any ticket by id (a person closing it). */
  resolveById(ticketId: number, now: number, actor: string, note: string): Ticket | undefined {
    return this.db.transaction(() => {
      const t = this.get(ticketId);
      if (!t || t.status === 'resolved') return t;
      this.setStatus.run('resolved', now, now, ticketId);
      this.event(ticketId, now, actor, 'resolved', note);
      return this.get(ticketId);
    });
  }

  /** Opens the one ticket of a cloud-partner incident (ECPS), or returns the open one. */
  openIncident(i: { dedupKey: string; title: string; note: string }, now: number): { ticket: Ticket; created: boolean } {
    return this.db.transaction(() => {
      const open = this.openByKey.get(i.dedupKey);
      if (open) return { ticket: toTicket(open), created: false };
      const id = Number(
        this.db
          .prepare(`INSERT INTO tickets (dedup_key, kind, title, priority, status, queue, coverage, opened_ms, updated_ms) VALUES (?, 'cloud_incident', ?, 'P1', 'open', 'cloud_partner', 'unknown', ?, ?)`)
          .run(i.dedupKey, i.title, now, now).lastInsertRowid,
      );
      this.event(id, now, 'system', 'opened', i.note);
      return { ticket: this.get(id)!, created: true };
    });
  }

  /** Resolves the open ticket of a dedup key, if there is one. */
  resolveFor(key: string, now: number, actor: string, note: string): Ticket | undefined {
    return this.db.transaction(() => {
      const open = this.openByKey.get(key);
      if (!open) return undefined;
      this.setStatus.run('resolved', now, now, open.id);
      this.event(open.id, now, actor, 'resolved', note);
      return this.get(open.id);
    });
  }

  event(ticketId: number, now: number, actor: string, type: string, body: string, data?: Record<string, unknown>): void {
    this.addEvent.run(ticketId, now, actor, type, body, data ? JSON.stringify(data) : null);
  }

  history(ticketId: number): TicketEvent[] {
    return this.eventsOf.all(ticketId).map((r) => ({ id: r.id, ticketId: r.ticket_id, tsMs: r.ts_ms, actor: r.actor, type: r.type, body: r.body, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null }));
  }

  /**
   * The history of a device's tickets in [fromMs, toMs], newest first (ts, then id: a stable order
   * for paging), at most `limit`, each with its ticket's title. For the device's timeline.
   */
  deviceHistory(deviceId: string, fromMs: number, toMs: number, limit: number): Array<TicketEvent & { title: string }> {
    return this.db
      .prepare<{ id: number; ticket_id: number; ts_ms: number; actor: string; type: string; body: string; data: string | null; title: string }>(
        `SELECT e.id, e.ticket_id, e.ts_ms, e.actor, e.type, e.body, e.data, t.title FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE t.device_id = ? AND e.ts_ms >= ? AND e.ts_ms <= ? ORDER BY e.ts_ms DESC, e.id DESC LIMIT ?`,
      )
      .all(deviceId, fromMs, toMs, Math.max(1, Math.min(limit, 1000)))
      .map((r) => ({ id: r.id, ticketId: r.ticket_id, tsMs: r.ts_ms, actor: r.actor, type: r.type, body: r.body, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null, title: r.title }));
  }

  /** Escalation state (JSON) and when it next needs a look; null when nothing is left to do. */
  setEscalation(ticketId: number, stateJson: string, nextWakeMs: number | null): void {
    this.db.prepare(`UPDATE tickets SET escalation = ?, next_wake_ms = ? WHERE id = ?`).run(stateJson, nextWakeMs, ticketId);
  }

  escalationOf(ticketId: number): string | null {
    return this.db.prepare<{ escalation: string | null }>(`SELECT escalation FROM tickets WHERE id = ?`).get(ticketId)?.escalation ?? null;
  }

  /** Open tickets whose escalation has something due by `now`. */
  dueForEscalation(now: number, limit = 500): Array<{ ticket: Ticket; escalation: string }> {
    return this.db
      .prepare<Row>(`SELECT * FROM tickets WHERE next_wake_ms IS NOT NULL AND next_wake_ms <= ? AND status <> 'resolved' ORDER BY next_wake_ms LIMIT ?`)
      .all(now, limit)
      .map((r) => ({ ticket: toTicket(r), escalation: r.escalation ?? '' }));
  }

  /** Moves a ticket to another queue (an escalation level), marking it escalated unless acknowledged. */
  escalateTo(ticketId: number, queue: string, now: number): Ticket {
    this.db.prepare(`UPDATE tickets SET queue = ?, status = CASE WHEN status = 'open' THEN 'escalated' ELSE status END, updated_ms = ? WHERE id = ?`).run(queue, now, ticketId);
    return this.get(ticketId)!;
  }

  assign(ticketId: number, owner: string, now: number): Ticket {
    this.db.prepare(`UPDATE tickets SET owner = ?, updated_ms = ? WHERE id = ?`).run(owner, now, ticketId);
    return this.get(ticketId)!;
  }

  acknowledge(ticketId: number, now: number): Ticket {
    this.db.prepare(`UPDATE tickets SET status = 'acknowledged', acknowledged_ms = COALESCE(acknowledged_ms, ?), updated_ms = ? WHERE id = ? AND status <> 'resolved'`).run(now, now, ticketId);
    return this.get(ticketId)!;
  }

  list(filter: { partnerId?: string; status?: TicketStatus; deviceId?: string; limit?: number } = {}): Ticket[] {
    const w = whereEquals([['partner_id', filter.partnerId], ['status', filter.status], ['device_id', filter.deviceId]]);
    return this.db.prepare<Row>(`SELECT * FROM tickets ${w.sql} ORDER BY id DESC LIMIT ?`).all(...w.params, Math.min(filter.limit ?? 100, 1000)).map(toTicket);
  }
}
