// The outbound queue on `webhook_deliveries`, as the dispatcher uses it: queue, find what is due,
// claim, record the outcome. The rows are also the delivery log partners read (WebhookStore.deliveries).
//
// A claim moves next_try_ms forward by a lease before the request goes out, in one conditional UPDATE:
// a second dispatcher on the same database (or the next tick of this one) does not send it again while
// the attempt runs, and an attempt cut off by a crash is due again once the lease ends (delivery is at
// least once; partners deduplicate on X-Fleetwatch-Delivery).
import type { Database, Statement } from '../storage/database.js';
import type { WebhookEvent } from './payload.js';

export interface DueDelivery {
  id: number;
  webhookId: number;
  event: WebhookEvent;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
}

export interface AttemptRecord {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextTryMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
}

export class DeliveryQueue {
  private readonly stmt: {
    insert: Statement;
    dueWebhooks: Statement<{ webhook_id: number }>;
    due: Statement<{ id: number; webhook_id: number; event: WebhookEvent; payload: string; attempts: number }>;
    claim: Statement;
    record: Statement;
  };

  constructor(db: Database) {
    this.stmt = {
      insert: db.prepare(`
        INSERT INTO webhook_deliveries (webhook_id, event_id, event, payload, status, attempts, next_try_ms, created_ms, updated_ms)
        VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`),
      dueWebhooks: db.prepare(`
        SELECT DISTINCT d.webhook_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND d.next_try_ms <= ? AND w.enabled = 1`),
      due: db.prepare(`
        SELECT id, webhook_id, event, payload, attempts FROM webhook_deliveries
        WHERE webhook_id = ? AND status = 'pending' AND next_try_ms <= ? ORDER BY id LIMIT ?`),
      claim: db.prepare(`
        UPDATE webhook_deliveries SET next_try_ms = ?
        WHERE id = ? AND status = 'pending' AND next_try_ms <= ? AND attempts = ?`),
      record: db.prepare(`
        UPDATE webhook_deliveries SET status = ?, attempts = ?, next_try_ms = ?, last_status = ?, last_error = ?, updated_ms = ?
        WHERE id = ? AND status = 'pending'`),
    };
  }

  /** A new pending delivery, due at `now`. Returns its id. */
  enqueue(webhookId: number, eventId: string, event: WebhookEvent, payload: string, now: number): number {
    return Number(this.stmt.insert.run(webhookId, eventId, event, payload, now, now, now).lastInsertRowid);
  }

  /** Enabled webhooks with deliveries due at `now`. */
  dueWebhooks(now: number): number[] {
    return this.stmt.dueWebhooks.all(now).map((r) => r.webhook_id);
  }

  /** Up to `limit` due deliveries of one webhook, oldest first. */
  due(webhookId: number, now: number, limit: number): DueDelivery[] {
    return this.stmt.due.all(webhookId, now, limit).map((r) => ({ id: r.id, webhookId: r.webhook_id, event: r.event, payload: r.payload, attempts: r.attempts }));
  }

  /** Takes a due delivery for one attempt until `leaseUntil`. False when someone else took it first. */
  claim(d: DueDelivery, now: number, leaseUntil: number): boolean {
    return this.stmt.claim.run(leaseUntil, d.id, now, d.attempts).changes === 1;
  }

  /** The outcome of an attempt. False when the delivery is gone (its webhook was deleted) or already settled. */
  record(id: number, r: AttemptRecord, now: number): boolean {
    return this.stmt.record.run(r.status, r.attempts, r.nextTryMs, r.lastStatus, r.lastError, now, id).changes === 1;
  }
}
