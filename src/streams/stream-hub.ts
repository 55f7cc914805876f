// The core of the live stream (CONTRACT section 2), without any socket.io inside: every event goes
// through one `publish(name, data)` path, which gives it an `id` and a `ts`, keeps the replayable
// ones (alerts, tickets, diagnostics, rollouts; never device.status or device.presence) for a
// while, and hands it to the listeners (the socket server). A client that reconnects with the last
// id it saw gets what it missed from `since()`, scoped to its tenant.
import { canSee, type Principal } from '../api/principal.js';

/** The events of CONTRACT section 2. The hub itself accepts any name. */
export const STREAM_EVENTS = [
  'device.status',
  'device.presence',
  'alert.firing',
  'alert.resolved',
  'ticket.created',
  'ticket.updated',
  'diagnostics.progress',
  'diagnostics.result',
  'rollout.progress',
  // Extension (compatible, CONTRACT "new events"): messages accepted per second, see docs/streams.md.
  'ingest.rate',
] as const;
export type StreamEventName = (typeof STREAM_EVENTS)[number];

/**
 * High-rate state samples: not kept for replay, and conflatable (only the latest per device matters;
 * `ingest.rate` has no device, so it is never held back, only not replayed).
 */
export const EPHEMERAL_EVENTS: readonly string[] = ['device.status', 'device.presence', 'ingest.rate'];

/** What every event payload starts with. */
export interface StreamEventBase {
  /** Decimal integer, increasing and unique within the process; clients resume from the last one they saw. */
  id: string;
  /** Epoch ms of the change the event reports. */
  ts: number;
  /** null: no partner (an unregistered device, a cloud-provider incident): noc only. */
  partnerId: string | null;
  customerId: string | null;
  deviceId: string | null;
}

/** `{ id, ts, partnerId, customerId, deviceId, ...data }`. */
export type StreamEvent<D extends object = Record<string, unknown>> = StreamEventBase & D;

/**
 * What a publisher hands in: the tenant ids (null when there are none), an optional ts, and any
 * further data. An `id` of the publisher's own (the alerting bus's event id, a run id) is kept as
 * `sourceId`: the stream gives its own `id`.
 */
export interface PublishInput {
  partnerId: string | null;
  customerId: string | null;
  deviceId: string | null;
  /** When the change happened (epoch ms); the hub's clock when left out. */
  ts?: number | undefined;
  id?: unknown;
}

/** A client's narrowing (`subscribe`): at most one of the two. Empty = its whole tenant. */
export interface StreamFilter {
  customerId?: string | undefined;
  deviceId?: string | undefined;
}

export interface HubEntry {
  /** Number(event.id). */
  seq: number;
  name: string;
  event: StreamEvent;
}

export type HubListener = (name: string, event: StreamEvent) => void;

export interface ReplayResult {
  /** The missed replayable events the principal may see, oldest first. */
  events: HubEntry[];
  /**
   * false when the hub cannot vouch that nothing is missing: the id is older than the retained
   * window (or from before this process started), unknown, or malformed. `events` is then
   * everything retained that the principal may see; the client should reload state (REST).
   */
  complete: boolean;
}

export interface StreamHubOptions {
  /** How long replayable events are kept. Default 10 minutes. */
  retentionMs?: number;
  /** At most this many replayable events are kept. Default 50,000. */
  maxEvents?: number;
  /** Names that are not kept for replay. Default EPHEMERAL_EVENTS. */
  ephemeral?: readonly string[];
  now?: () => number;
  /** A listener threw (it is never rethrown into the publisher). */
  onListenerError?: (err: unknown, name: string) => void;
}

export const DEFAULT_RETENTION_MS = 10 * 60_000;
export const DEFAULT_MAX_EVENTS = 50_000;

// One counter for the process, started at the clock in microseconds: ids are unique in the process
// (also across hubs) and, unless the previous process averaged over 1,000 events per millisecond,
// larger than any id a client kept from before a restart, so such an id is recognised as old.
let lastSeq = Date.now() * 1000;
function nextSeq(): number {
  return ++lastSeq;
}

const ID_RE = /^\d{1,16}$/;

/** Does the event pass the client's narrowing? (No narrowing: yes.) */
export function matchesFilter(filter: StreamFilter | null | undefined, event: StreamEventBase): boolean {
  if (!filter) return true;
  if (filter.deviceId !== undefined && event.deviceId !== filter.deviceId) return false;
  if (filter.customerId !== undefined && event.customerId !== filter.customerId) return false;
  return true;
}

interface Buffered extends HubEntry {
  /** Hub clock when published (retention runs on this, not on the event's ts). */
  at: number;
}

export class StreamHub {
  readonly retentionMs: number;
  readonly maxEvents: number;
  private readonly ephemeral: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly onListenerError: ((err: unknown, name: string) => void) | undefined;
  private readonly listeners: HubListener[] = [];
  // A queue as array + head index: eviction is O(1), the array is compacted now and then.
  private buf: Buffered[] = [];
  private head = 0;
  /** Every replayable id <= floor may have been evicted (or predates this hub). */
  private floor: number;
  private last: number;
  private published = 0;

  constructor(opts: StreamHubOptions = {}) {
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.maxEvents = Math.max(0, opts.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.ephemeral = new Set(opts.ephemeral ?? EPHEMERAL_EVENTS);
    this.now = opts.now ?? Date.now;
    this.onListenerError = opts.onListenerError;
    this.floor = lastSeq;
    this.last = lastSeq;
  }

  isReplayable(name: string): boolean {
    return !this.ephemeral.has(name);
  }

  /** Registers a listener for every published event; returns its removal. */
  onEvent(listener: HubListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * The one path of every event: gives it an id and ts, keeps it if replayable, tells the listeners.
   * Never throws because of a listener. Returns the payload as sent.
   */
  publish<D extends PublishInput>(name: string, input: D): StreamEvent {
    const { id: sourceId, ts, partnerId, customerId, deviceId, ...data } = input;
    const seq = nextSeq();
    const at = this.now();
    const event: StreamEvent = {
      id: String(seq),
      ts: typeof ts === 'number' && Number.isFinite(ts) ? ts : at,
      partnerId: partnerId ?? null,
      customerId: customerId ?? null,
      deviceId: deviceId ?? null,
      ...(sourceId === undefined ? undefined : { sourceId }),
      ...data,
    };
    this.last = seq;
    this.published++;
    if (!this.ephemeral.has(name)) {
      this.buf.push({ seq, at, name, event });
      this.evict(at);
    }
    for (let i = 0; i < this.listeners.length; i++) {
      try {
        this.listeners[i]!(name, event);
      } catch (err) {
        this.onListenerError?.(err, name);
      }
    }
    return event;
  }

  /**
   * What a client that last saw `lastEventId` missed: the retained replayable events after it that
   * `principal` may see and `filter` lets through, oldest first. No id: nothing (a fresh client).
   */
  since(lastEventId: string | null | undefined, principal: Principal, filter?: StreamFilter | null): ReplayResult {
    if (lastEventId === undefined || lastEventId === null || lastEventId === '') return { events: [], complete: true };
    this.evict(this.now());
    const last = ID_RE.test(lastEventId) ? Number(lastEventId) : NaN;
    const known = Number.isSafeInteger(last) && last <= this.last;
    const complete = known && last >= this.floor;
    const from = known ? this.firstAfter(last) : this.head;
    const events: HubEntry[] = [];
    for (let i = from; i < this.buf.length; i++) {
      const e = this.buf[i]!;
      if (canSee(principal, e.event.partnerId) && matchesFilter(filter, e.event)) {
        events.push({ seq: e.seq, name: e.name, event: e.event });
      }
    }
    return { events, complete };
  }

  /** Replayable events currently retained. */
  get size(): number {
    this.evict(this.now());
    return this.buf.length - this.head;
  }

  /** The id of the newest event published (replayable or not); the id base before the first. */
  get lastId(): string {
    return String(this.last);
  }

  stats(): { published: number; retained: number; oldestId: string | null } {
    const retained = this.size;
    const oldest = this.buf[this.head];
    return { published: this.published, retained, oldestId: oldest ? oldest.event.id : null };
  }

  /** Drops what is older than the retention window or beyond maxEvents. */
  private evict(now: number): void {
    const cutoff = now - this.retentionMs;
    while (this.head < this.buf.length) {
      const e = this.buf[this.head]!;
      if (e.at >= cutoff && this.buf.length - this.head <= this.maxEvents) break;
      this.floor = e.seq;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the first retained entry with seq > last (binary search; entries are in seq order). */
  private firstAfter(last: number): number {
    let lo = this.head;
    let hi = this.buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buf[mid]!.seq <= last) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
