// A partner's webhooks (where to send which events) and the delivery log they read. The signing secret
// is generated here, returned once by create() and never by a read; only the dispatcher asks for it.
//
// Tenancy: list() and the writes take the caller's partnerId; get() and deliveries() do not, so the API
// checks `webhook.partnerId` against the principal before answering (404 for another tenant's webhook).
import { randomBytes } from 'node:crypto';
import type { Database, Statement } from '../storage/database.js';
import { isWebhookEvent, WEBHOOK_EVENTS, type WebhookEvent } from './payload.js';

/** Bad input to create() and friends; the API answers it with a 400 and the message. */
export class WebhookInputError extends Error {
  override readonly name = 'WebhookInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Webhook {
  id: number;
  partnerId: string;
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  createdMs: number;
}

export interface NewWebhook {
  partnerId: string;
  url: string;
  events: string[];
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One entry of the delivery log: one event for one webhook, with the outcome of its attempts so far. */
export interface WebhookDelivery {
  id: number;
  webhookId: number;
  /** The bus event's id (the `id` in the payload). */
  eventId: string;
  event: WebhookEvent;
  /** The exact JSON body sent (and signed). */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending only). */
  nextTryMs: number | null;
  /** HTTP status of the last attempt; null when it got no answer (or none was made yet). */
  lastStatus: number | null;
  lastError: string | null;
  createdMs: number;
  updatedMs: number;
}

export interface DeliveryQuery {
  webhookId: number;
  /** 1…200, default 50. */
  limit?: number;
  /** Only deliveries with a smaller id: pass the last id of the previous page. */
  beforeId?: number;
}

export const MAX_URL_LENGTH = 2048;
export const DEFAULT_DELIVERY_PAGE = 50;
export const MAX_DELIVERY_PAGE = 200;

interface WebhookRow {
  id: number;
  partner_id: string;
  url: string;
  events: string;
  enabled: number;
  created_ms: number;
}

interface DeliveryRow {
  id: number;
  webhook_id: number;
  event_id: string;
  event: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_try_ms: number | null;
  last_status: number | null;
  last_error: string | null;
  created_ms: number;
  updated_ms: number;
}

const WEBHOOK_COLUMNS = 'id, partner_id, url, events, enabled, created_ms';

export class WebhookStore {
  private readonly stmt: {
    partnerExists: Statement<{ ok: number }>;
    insert: Statement;
    byId: Statement<WebhookRow>;
    byPartner: Statement<WebhookRow>;
    secret: Statement<{ secret: string }>;
    deleteDeliveries: Statement;
    delete: Statement;
    setEnabled: Statement;
    deliveries: Statement<DeliveryRow>;
    prune: Statement;
  };

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {
    this.stmt = {
      partnerExists: db.prepare('SELECT 1 AS ok FROM partners WHERE id = ?'),
      insert: db.prepare('INSERT INTO webhooks (partner_id, url, secret, events, enabled, created_ms) VALUES (?, ?, ?, ?, 1, ?)'),
      byId: db.prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?`),
      byPartner: db.prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE partner_id = ? ORDER BY id`),
      secret: db.prepare('SELECT secret FROM webhooks WHERE id = ?'),
      deleteDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE webhook_id = ?'),
      delete: db.prepare('DELETE FROM webhooks WHERE id = ? AND partner_id = ?'),
      setEnabled: db.prepare('UPDATE webhooks SET enabled = ? WHERE id = ? AND partner_id = ?'),
      deliveries: db.prepare(`
        SELECT id, webhook_id, event_id, event, payload, status, attempts, next_try_ms, last_status, last_error, created_ms, updated_ms
        FROM webhook_deliveries WHERE webhook_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
      prune: db.prepare(`DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND updated_ms < ?`),
    };
  }

  /**
   * Registers a webhook for a partner. Returns it with its signing secret: the only time the secret is
   * shown. Throws WebhookInputError for a URL that is not http(s), unknown or missing events, or an
   * unknown partner.
   */
  create(input: NewWebhook): { webhook: Webhook; secret: string } {
    const url = checkUrl(input.url);
    const events = checkEvents(input.events);
    if (typeof input.partnerId !== 'string' || this.stmt.partnerExists.get(input.partnerId) === undefined) {
      throw new WebhookInputError('partnerId', `unknown partner "${String(input.partnerId)}"`);
    }
    const secret = randomBytes(32).toString('hex');
    const createdMs = this.clock();
    const id = Number(this.stmt.insert.run(input.partnerId, url, secret, JSON.stringify(events), createdMs).lastInsertRowid);
    return { webhook: { id, partnerId: input.partnerId, url, events, enabled: true, createdMs }, secret };
  }

  /** The partner's webhooks, oldest first, without their secrets. */
  list(partnerId: string): Webhook[] {
    return this.stmt.byPartner.all(partnerId).map(toWebhook);
  }

  get(id: number): Webhook | undefined {
    const row = this.stmt.byId.get(id);
    return row && toWebhook(row);
  }

  /** Removes the webhook and its delivery log. False when the partner has no webhook with this id. */
  delete(id: number, partnerId: string): boolean {
    return this.db.transaction(() => {
      if (this.stmt.byId.get(id)?.partner_id !== partnerId) return false;
      this.stmt.deleteDeliveries.run(id);
      return this.stmt.delete.run(id, partnerId).changes > 0;
    });
  }

  /**
   * A disabled webhook gets no new deliveries; the ones still pending wait and go out (oldest first)
   * when it is enabled again. False when the partner has no webhook with this id.
   */
  setEnabled(id: number, partnerId: string, enabled: boolean): boolean {
    if (this.stmt.byId.get(id)?.partner_id !== partnerId) return false;
    this.stmt.setEnabled.run(enabled ? 1 : 0, id, partnerId);
    return true;
  }

  /** The webhook's delivery log, newest first. */
  deliveries(q: DeliveryQuery): WebhookDelivery[] {
    const limit = q.limit ?? DEFAULT_DELIVERY_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERY_PAGE) {
      throw new WebhookInputError('limit', `limit must be an integer from 1 to ${MAX_DELIVERY_PAGE}`);
    }
    if (q.beforeId !== undefined && (!Number.isSafeInteger(q.beforeId) || q.beforeId < 1)) {
      throw new WebhookInputError('beforeId', 'beforeId must be a positive integer (the last id of the previous page)');
    }
    return this.stmt.deliveries.all(q.webhookId, q.beforeId ?? Number.MAX_SAFE_INTEGER, limit).map(toDelivery);
  }

  /** Drops settled (delivered, failed) log entries last touched before `beforeMs`; pending ones stay. Returns how many. */
  pruneDeliveries(beforeMs: number): number {
    return this.stmt.prune.run(beforeMs).changes;
  }

  /** The HMAC key, for the dispatcher only: never put it in an API answer. */
  signingSecret(id: number): string | undefined {
    return this.stmt.secret.get(id)?.secret;
  }
}

function checkUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new WebhookInputError('url', 'url is required (an http:// or https:// URL)');
  if (raw.length > MAX_URL_LENGTH) throw new WebhookInputError('url', `url is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookInputError('url', `url "${raw}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookInputError('url', `url must use http or https, not "${url.protocol.replace(/:$/, '')}"`);
  }
  // fetch refuses URLs with credentials, and they would sit in logs: the signature authenticates us.
  if (url.username !== '' || url.password !== '') throw new WebhookInputError('url', 'url must not contain a user name or password');
  return url.href;
}

function checkEvents(raw: unknown): WebhookEvent[] {
  const expected = `one or more of ${WEBHOOK_EVENTS.join(', ')}`;
  if (!Array.isArray(raw) || raw.length === 0) throw new WebhookInputError('events', `events must be a list of ${expected}`);
  const unknown = raw.filter((e) => !isWebhookEvent(e));
  if (unknown.length > 0) throw new WebhookInputError('events', `unknown event ${unknown.map((e) => JSON.stringify(e)).join(', ')}; expected ${expected}`);
  // Canonical order, no duplicates.
  return WEBHOOK_EVENTS.filter((e) => raw.includes(e));
}

function toWebhook(r: WebhookRow): Webhook {
  return { id: r.id, partnerId: r.partner_id, url: r.url, events: parseEvents(r.events), enabled: r.enabled === 1, createdMs: r.created_ms };
}

/** The stored events column; anything unknown in it (edited by hand) is ignored rather than sent. */
function parseEvents(json: string): WebhookEvent[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter(isWebhookEvent) : [];
  } catch {
    return [];
  }
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    event: r.event as WebhookEvent,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextTryMs: r.next_try_ms,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
  };
}
