// The one internal bus from alerting to the layers above (API, socket.io streams, webhooks):
// CONTRACT section 2 events. Each payload carries id, ts and the partner, customer and device.
import { EventEmitter } from 'node:events';
import type { AlertRecord } from './alerts/alert-store.js';
import type { Ticket } from './tickets/ticket-store.js';

export interface EventMeta {
  /** Unique, increasing within the process: clients resume from the last one they saw. */
  id: string;
  ts: number;
  partnerId: string | null;
  customerId: string | null;
  deviceId: string | null;
}

export interface AlertEventMap {
  'alert.firing': [EventMeta & { alert: AlertRecord }];
  'alert.resolved': [EventMeta & { alert: AlertRecord }];
  'ticket.created': [EventMeta & { ticket: Ticket }];
  'ticket.updated': [EventMeta & { ticket: Ticket; change: string }];
}

export class AlertEvents extends EventEmitter<AlertEventMap> {
  private seq = 0;

  meta(ts: number, who: { partnerId: string | null; customerId: string | null; deviceId: string | null }): EventMeta {
    return { id: `${ts.toString(36)}-${(++this.seq).toString(36)}`, ts, partnerId: who.partnerId, customerId: who.customerId, deviceId: who.deviceId };
  }
}
