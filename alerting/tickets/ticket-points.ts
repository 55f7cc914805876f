// The `ticket` measurement: one InfluxDB point per ticket transition, for charts of tickets over
// time (dashboards/). Listens to the alerting bus (ticket.created, ticket.updated) and writes
// through the same writePoint as the `alert` measurement (staged in the collector's journal and
// flushed at once). Schema in docs/influxdb.md; the tickets themselves live in the relational store.
import type { Logger } from 'pino';
import { escapeTag } from '../../collector/line-protocol.js';
import { UNKNOWN } from '../../collector/tenant-tags.js';
import type { AlertEvents, AlertEventMap } from '../events.js';
import type { Ticket } from './ticket-store.js';

/**
 * Values of the `change` tag. Every change the code announces today; anything else is written as
 * `other`, so a new change string can never make the tag grow without bound.
 */
export const TICKET_CHANGES = [
  'created',
  'reopened',
  'acknowledged',
  'assigned',
  'comment',
  'ack_overdue',
  'escalated',
  'merged',
  'resolved',
  'replacement',
  'onsite',
  'replacement_requested',
  'replacement_shipped',
  'replacement_delivered',
  'replacement_installed',
  'replacement_returned',
  'replacement_cancelled',
  'other',
] as const;
export type TicketChange = (typeof TICKET_CHANGES)[number];

const KNOWN_CHANGES: ReadonlySet<string> = new Set(TICKET_CHANGES);
/** Queues are a short fixed list (escalation levels, noc, cloud partners); anything longer is cut. */
const MAX_QUEUE_CHARS = 64;
const MAX_REMEMBERED_SERIES = 10_000;

/** +1: the ticket is open again; -1: it closed (resolved or merged into another); 0 otherwise. */
function deltaOf(change: TicketChange): number {
  if (change === 'created' || change === 'reopened') return 1;
  if (change === 'resolved' || change === 'merged') return -1;
  return 0;
}

export function ticketChange(change: string): TicketChange {
  return KNOWN_CHANGES.has(change) ? (change as TicketChange) : 'other';
}

/** Measurement and tag set (keys sorted) of a transition: no ticket id, only bounded values. */
function ticketSeries(ticket: Ticket, change: TicketChange): string {
  const tag = (v: string | null) => escapeTag(v === null || v === '' ? UNKNOWN : v);
  return (
    `ticket,change=${change},customer=${tag(ticket.customerId)},kind=${tag(ticket.kind)},partner=${tag(ticket.partnerId)}` +
    `,priority=${tag(ticket.priority)},queue=${tag(ticket.queue.slice(0, MAX_QUEUE_CHARS))},site=${tag(ticket.siteId)}`
  );
}

/** The line for one transition of `ticket` at `tsMs` (the collector's clock). */
export function ticketLine(ticket: Ticket, change: TicketChange, tsMs: number): string {
  const ageS = Math.max(0, (tsMs - ticket.openedMs) / 1000);
  const open = ticket.status !== 'resolved';
  return `${ticketSeries(ticket, change)} count=1i,delta=${deltaOf(change)}i,open=${open ? 'true' : 'false'},age_s=${ageS} ${tsMs}\n`;
}

export interface TicketPoints {
  /** Stops listening (alerting's stop). */
  detach(): void;
}

/**
 * Writes a `ticket` point for every ticket.created and ticket.updated on the bus. InfluxDB keeps one
 * point per series and timestamp, so two transitions with the same tags in the same millisecond
 * (several tickets merged into a site ticket at once) are written 1 ms apart instead of overwriting
 * each other.
 */
export function attachTicketPoints(events: AlertEvents, writePoint: (line: string) => void, log: Logger): TicketPoints {
  const lastTsBySeries = new Map<string, number>();
  const write = (ticket: Ticket, change: TicketChange, ts: number) => {
    const series = ticketSeries(ticket, change);
    const last = lastTsBySeries.get(series);
    const at = last !== undefined && ts <= last ? last + 1 : ts;
    // Only the last few milliseconds matter: forget everything now and then (bounded memory).
    if (lastTsBySeries.size >= MAX_REMEMBERED_SERIES) lastTsBySeries.clear();
    lastTsBySeries.set(series, at);
    try {
      writePoint(ticketLine(ticket, change, at));
    } catch (err) {
      // The journal is closed (stopping): the ticket itself is in the relational store.
      log.warn({ err: (err as Error).message, ticketId: ticket.id, change }, 'ticket point not written');
    }
  };
  const onCreated = (e: AlertEventMap['ticket.created'][0]) => write(e.ticket, 'created', e.ts);
  const onUpdated = (e: AlertEventMap['ticket.updated'][0]) => write(e.ticket, ticketChange(e.change), e.ts);
  events.on('ticket.created', onCreated);
  events.on('ticket.updated', onUpdated);
  return {
    detach() {
      events.off('ticket.created', onCreated);
      events.off('ticket.updated', onUpdated);
    },
  };
}
