// What a partner's endpoint receives: the event names a webhook can subscribe to, and the JSON body
// built from an event of the alerting bus (alerting/events.ts). The body is serialized once, when the
// delivery is queued, and those exact bytes are signed and sent on every attempt.
import type { AlertEventMap, EventMeta } from '../../alerting/events.js';

export const WEBHOOK_EVENTS = ['alert.firing', 'alert.resolved', 'ticket.created', 'ticket.updated'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(name: unknown): name is WebhookEvent {
  return typeof name === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(name);
}

/** The body of a webhook request. `change` only on ticket.updated (acknowledged, escalated, resolved, …). */
export interface WebhookPayload {
  event: WebhookEvent;
  /** The bus event's id (same as on the socket.io stream); the same event sent to two webhooks has the same id. */
  id: string;
  ts: number;
  partnerId: string | null;
  customerId: string | null;
  deviceId: string | null;
  /** The alert (alert.*) or the ticket (ticket.*), as the API returns it. */
  data: unknown;
  change?: string;
}

type BusPayload = AlertEventMap[WebhookEvent][0];

export function buildPayload(event: WebhookEvent, e: BusPayload): WebhookPayload {
  const meta: EventMeta = e;
  const base = { event, id: meta.id, ts: meta.ts, partnerId: meta.partnerId, customerId: meta.customerId, deviceId: meta.deviceId };
  if ('alert' in e) return { ...base, data: e.alert };
  if ('change' in e) return { ...base, data: e.ticket, change: e.change };
  return { ...base, data: e.ticket };
}
