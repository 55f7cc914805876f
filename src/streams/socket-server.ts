// The live stream over socket.io (CONTRACT section 2): one entry point, `attachStreams`, which
// attaches socket.io to the service's HTTP server, feeds the hub from the ingest and alerting
// buses, and fans every hub event out to the sockets allowed to see it.
//
// - Handshake `auth: { token, lastEventId?, subscribe? }`: no valid token -> connect_error
//   'unauthorized'. With lastEventId the socket first gets what it missed (replayable events of its
//   tenant, in order; `stream.gap` first when the hub cannot vouch that nothing is missing), then
//   live events.
// - Delivery sets: an unnarrowed socket sits in its tenant's set (`noc`, or its partner's); a
//   narrowed one in the set of its customer or device (tenant checked again on every event).
//   An event with partnerId null reaches noc only.
// - Each event is encoded once (with the WebSocket frame precomputed, like socket.io's own
//   broadcast) and the same bytes are written to every recipient; nothing ever awaits a socket.
// - Backpressure: when a socket's engine.io write buffer holds more than maxBufferedPerClient
//   packets, its device.status / device.presence packets wait in a per-socket map keyed by
//   event and device, where a newer one supersedes the older; the map is written out when
//   engine.io drains. Alerts, tickets, diagnostics and rollouts are never held back or dropped.
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import type { AlertEvents } from '../../alerting/events.js';
import type { OfflineReason } from '../../collector/device-state.js';
import type { IngestEvents } from '../../collector/ingest-events.js';
import type { Attribution } from '../../collector/tenant-tags.js';
import type { StatusSnapshot } from '../../collector/messages.js';
import { bearerToken, canSee, principalFromToken, type Principal } from '../api/principal.js';
import { ID_PATTERN, type Registry } from '../storage/registry.js';
import { DeviceSummaryTracker } from './device-summary.js';
import {
  EPHEMERAL_EVENTS,
  StreamHub,
  type PublishInput,
  type StreamEvent,
  type StreamFilter,
} from './stream-hub.js';

export const DEFAULT_MAX_BUFFERED_PER_CLIENT = 1000;

/** Anything with `on` (an EventEmitter): e.g. the diagnostics or rollout events. */
export interface StreamSource {
  on(event: string, listener: (payload: any) => void): unknown;
  off?(event: string, listener: (payload: any) => void): unknown;
}

export interface AttachStreamsOptions {
  httpServer: HttpServer;
  registry: Pick<Registry, 'findUserByToken' | 'getDevice' | 'getCustomer'>;
  ingest: IngestEvents;
  alertEvents: AlertEvents;
  log: Logger;
  /** How long replayable events are kept for reconnecting clients. Default 10 minutes. */
  retentionMs?: number;
  /** At most this many replayable events are kept. Default 50,000. */
  maxReplayEvents?: number;
  /** Engine.io write-buffer length above which device.status/presence are conflated. Default 1000. */
  maxBufferedPerClient?: number;
  /** Further buses whose events are published as they are (payload: partnerId?, customerId?, deviceId?, ...). */
  sources?: Array<{ emitter: StreamSource; events: readonly string[] }>;
  /** Passed to socket.io (path, cors, ...). */
  serverOptions?: Partial<ServerOptions>;
}

/** What a publisher outside the hub hands in: tenant ids may be left out when a deviceId is given. */
export interface StreamPublishInput {
  partnerId?: string | null | undefined;
  customerId?: string | null | undefined;
  deviceId?: string | null | undefined;
  ts?: number | undefined;
  [key: string]: unknown;
}

export interface StreamStats {
  clients: number;
  /** device.status/presence packets waiting for slow clients right now. */
  pending: number;
  /** device.status/presence packets superseded (dropped) for slow clients since start. */
  superseded: number;
  published: number;
  retained: number;
}

export interface Streams {
  hub: StreamHub;
  io: Server;
  /**
   * Publishes an event from another part of the service (diagnostics.progress, diagnostics.result,
   * rollout.progress, ...). When partnerId is left out and deviceId names a registered device, the
   * tenant (partner, customer, site) is taken from the registry; otherwise a missing partner is null
   * (noc only). Never throws because of a socket.
   */
  publish(name: string, data: StreamPublishInput): StreamEvent;
  stats(): StreamStats;
  /** Unsubscribes from the buses, disconnects every client, stops socket.io's engine. The HTTP server is left to its owner. */
  close(): Promise<void>;
}

/** Ack of `subscribe`. */
export type SubscribeAck = { ok: true } | { ok: false; error: { code: string; message: string } };

interface EngineConn {
  readyState: string;
  writeBuffer: unknown[];
  write(data: unknown, options?: object): unknown;
  on(event: 'drain', listener: () => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
}

interface Encoded {
  parts: unknown[];
  opts: Record<string, unknown>;
}

interface Client {
  readonly socket: Socket;
  readonly conn: EngineConn;
  readonly principal: Principal;
  filter: StreamFilter | null;
  /** The delivery set it sits in, and where that set is filed (null: the noc set). */
  slot: Set<Client> | null;
  slotMap: Map<string, Set<Client>> | null;
  slotKey: string;
  pending: Map<string, Encoded> | null;
  readonly onDrain: () => void;
}

const EVENT_PACKET = 2; // socket.io-parser PacketType.EVENT

/** Attaches the live stream to `httpServer`. Call once, after the alerting bus exists. */
export function attachStreams(opts: AttachStreamsOptions): Streams {
  const { registry, log } = opts;
  const maxBuffered = opts.maxBufferedPerClient ?? DEFAULT_MAX_BUFFERED_PER_CLIENT;
  const conflated: ReadonlySet<string> = new Set(EPHEMERAL_EVENTS);
  const hub = new StreamHub({
    retentionMs: opts.retentionMs,
    maxEvents: opts.maxReplayEvents,
    onListenerError: (err, name) => log.error({ err, event: name }, 'stream fan-out failed'),
  });
  const io = new Server(opts.httpServer, opts.serverOptions);
  const nsp = io.of('/');
  const adapter = nsp.adapter as unknown as { _encode?: (packet: object, packetOpts: object) => unknown[] };
  let closed = false;

  // ---- delivery sets ---------------------------------------------------------------------------
  const noc = new Set<Client>();
  const byPartner = new Map<string, Set<Client>>();
  const byCustomer = new Map<string, Set<Client>>();
  const byDevice = new Map<string, Set<Client>>();
  const clients = new Map<string, Client>();
  let superseded = 0;

  const leaveSlot = (c: Client): void => {
    const s = c.slot;
    if (!s) return;
    s.delete(c);
    if (s.size === 0 && c.slotMap !== null) c.slotMap.delete(c.slotKey);
    c.slot = null;
    c.slotMap = null;
  };
  const place = (c: Client): void => {
    leaveSlot(c);
    const f = c.filter;
    let map: Map<string, Set<Client>> | null = null;
    let key = '';
    if (f?.deviceId !== undefined) (map = byDevice), (key = f.deviceId);
    else if (f?.customerId !== undefined) (map = byCustomer), (key = f.customerId);
    else if (c.principal.role !== 'noc') (map = byPartner), (key = c.principal.partnerId ?? '');
    let s = noc;
    if (map !== null) {
      let found = map.get(key);
      if (!found) map.set(key, (found = new Set()));
      s = found;
    }
    s.add(c);
    c.slot = s;
    c.slotMap = map;
    c.slotKey = key;
  };

  // ---- fan-out ---------------------------------------------------------------------------------
  const encode = (name: string, event: StreamEvent): Encoded => {
    const packet = { type: EVENT_PACKET, data: [name, event], nsp: '/' };
    const packetOpts: Record<string, unknown> = { preEncoded: true };
    // The adapter's encoder also precomputes the WebSocket frame once for all recipients.
    const parts =
      typeof adapter._encode === 'function'
        ? adapter._encode(packet, packetOpts)
        : (io.encoder.encode(packet as Parameters<Server['encoder']['encode']>[0]) as unknown[]);
    return { parts, opts: packetOpts };
  };

  const writeNow = (c: Client, enc: Encoded): void => {
    for (let i = 0; i < enc.parts.length; i++) c.conn.write(enc.parts[i], enc.opts);
  };

  const flushPending = (c: Client): void => {
    const p = c.pending;
    if (p === null || p.size === 0 || c.conn.readyState !== 'open') return;
    for (const enc of p.values()) writeNow(c, enc);
    p.clear();
  };

  // One small context per event: the packet is encoded at the first recipient, then shared.
  interface Delivery {
    name: string;
    event: StreamEvent;
    conflate: boolean;
    enc: Encoded | undefined;
  }

  const sendTo = (set: Set<Client> | undefined, d: Delivery, checkTenant: boolean): void => {
    if (set === undefined || set.size === 0) return;
    const ev = d.event;
    for (const c of set) {
      if (checkTenant && !canSee(c.principal, ev.partnerId)) continue;
      const conn = c.conn;
      if (conn.readyState !== 'open') continue;
      const enc = (d.enc ??= encode(d.name, ev));
      if (d.conflate && ev.deviceId !== null && ((c.pending !== null && c.pending.size > 0) || conn.writeBuffer.length > maxBuffered)) {
        // Slow client: keep only the latest of this event for this device until engine.io drains.
        const p = (c.pending ??= new Map());
        const key = `${d.name}\n${ev.deviceId}`;
        if (p.delete(key)) superseded++;
        p.set(key, enc);
        continue;
      }
      try {
        writeNow(c, enc);
      } catch (err) {
        log.warn({ err, sid: c.socket.id }, 'stream: write to a client failed');
      }
    }
  };

  hub.onEvent((name, event) => {
    const d: Delivery = { name, event, conflate: conflated.has(name), enc: undefined };
    sendTo(noc, d, false);
    if (event.partnerId !== null) sendTo(byPartner.get(event.partnerId), d, false);
    if (event.customerId !== null) sendTo(byCustomer.get(event.customerId), d, true);
    if (event.deviceId !== null) sendTo(byDevice.get(event.deviceId), d, true);
  });

  // ---- handshake, subscribe, replay --------------------------------------------------------------
  const validateFilter = (principal: Principal, raw: unknown): { filter: StreamFilter | null } | { error: { code: string; message: string } } => {
    if (raw === undefined || raw === null) return { filter: null };
    if (typeof raw !== 'object' || Array.isArray(raw)) return bad('subscribe expects an object: {}, {customerId} or {deviceId}');
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (k !== 'customerId' && k !== 'deviceId') return bad(`unknown field "${k}"; use customerId or deviceId`);
    }
    const { customerId, deviceId } = r;
    if (customerId !== undefined && deviceId !== undefined) return bad('give customerId or deviceId, not both');
    if (customerId === undefined && deviceId === undefined) return { filter: null };
    const id = (customerId ?? deviceId) as unknown;
    const field = customerId !== undefined ? 'customerId' : 'deviceId';
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return bad(`${field} must match ${ID_PATTERN.source}`);
    if (field === 'customerId') {
      const customer = registry.getCustomer(id);
      if (!customer || !canSee(principal, customer.partnerId)) return notFound(`customer "${id}" not found`);
      return { filter: { customerId: id } };
    }
    const device = registry.getDevice(id);
    // noc may also follow a device the registry does not know (its events carry no partner).
    if (device ? !canSee(principal, device.partnerId) : principal.role !== 'noc') return notFound(`device "${id}" not found`);
    return { filter: { deviceId: id } };
  };

  io.use((socket, next) => {
    if (closed) return next(withData(new Error('unavailable'), 'unavailable', 'the stream is shutting down'));
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const token = typeof auth.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
    let principal: Principal | undefined;
    try {
      principal = principalFromToken(registry, token);
    } catch (err) {
      log.error({ err }, 'stream handshake: token lookup failed');
      return next(withData(new Error('unavailable'), 'unavailable', 'cannot check the token right now'));
    }
    if (!principal) return next(withData(new Error('unauthorized'), 'unauthorized', 'a valid token is required'));
    let v: ReturnType<typeof validateFilter>;
    try {
      v = validateFilter(principal, auth.subscribe);
    } catch (err) {
      log.error({ err }, 'stream handshake: subscribe lookup failed');
      return next(withData(new Error('unavailable'), 'unavailable', 'cannot check the subscription right now'));
    }
    if ('error' in v) return next(withData(new Error(v.error.code), v.error.code, v.error.message));
    socket.data.principal = principal;
    socket.data.filter = v.filter;
    next();
  });

  io.on('connection', (socket) => {
    const principal = socket.data.principal as Principal;
    const conn = socket.conn as unknown as EngineConn;
    const c: Client = {
      socket,
      conn,
      principal,
      filter: (socket.data.filter as StreamFilter | null) ?? null,
      slot: null,
      slotMap: null,
      slotKey: '',
      pending: null,
      onDrain: () => flushPending(c),
    };
    void socket.join(principal.role === 'noc' ? 'noc' : `partner:${principal.partnerId ?? ''}`);
    conn.on('drain', c.onDrain);

    // Replay first, then live: both happen in this synchronous block, so nothing falls in between.
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const lastEventId = typeof auth.lastEventId === 'string' ? auth.lastEventId : typeof auth.lastEventId === 'number' ? String(auth.lastEventId) : undefined;
    if (lastEventId !== undefined && lastEventId !== '') {
      const replay = hub.since(lastEventId, principal, c.filter);
      if (!replay.complete) {
        socket.emit('stream.gap', { lastEventId, oldestId: hub.stats().oldestId, replayed: replay.events.length });
      }
      for (const e of replay.events) socket.emit(e.name, e.event);
    }
    clients.set(socket.id, c);
    place(c);
    log.debug({ user: principal.name, role: principal.role, partnerId: principal.partnerId, sid: socket.id }, 'stream client connected');

    socket.on('subscribe', (raw: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: SubscribeAck) => void) : typeof raw === 'function' ? (raw as (a: SubscribeAck) => void) : undefined;
      const input = typeof raw === 'function' ? undefined : raw;
      let v: ReturnType<typeof validateFilter>;
      try {
        v = validateFilter(principal, input === undefined ? {} : input);
      } catch (err) {
        log.error({ err }, 'stream subscribe failed');
        reply?.({ ok: false, error: { code: 'internal', message: 'internal error' } });
        return;
      }
      if ('error' in v) {
        reply?.({ ok: false, error: v.error });
        return;
      }
      c.filter = v.filter;
      if (clients.has(socket.id)) place(c);
      reply?.({ ok: true });
    });

    socket.on('disconnect', () => {
      clients.delete(socket.id);
      leaveSlot(c);
      c.pending = null;
      conn.off('drain', c.onDrain);
      log.debug({ sid: socket.id }, 'stream client disconnected');
    });
  });

  // ---- sources -----------------------------------------------------------------------------------
  const unsubscribe: Array<() => void> = [];
  const tracker = new DeviceSummaryTracker();

  const tenantOf = (a: Attribution) => a.tenant;
  const onStatus = (deviceId: string, a: Attribution, snapshot: StatusSnapshot, _previous: StatusSnapshot | undefined, receivedMs: number): void => {
    try {
      const r = tracker.status(deviceId, snapshot);
      if (!r.presenceChanged && r.summary === undefined) return;
      const t = tenantOf(a);
      const partnerId = t?.partnerId ?? null;
      const customerId = t?.customerId ?? null;
      const siteId = t?.siteId ?? null;
      if (r.presenceChanged) hub.publish('device.presence', { ts: receivedMs, partnerId, customerId, deviceId, siteId, online: true, reason: null });
      if (r.summary) hub.publish('device.status', { ts: receivedMs, partnerId, customerId, deviceId, siteId, model: a.model, summary: r.summary });
    } catch (err) {
      log.error({ err, deviceId }, 'stream: device.status failed');
    }
  };
  const onPresence = (deviceId: string, a: Attribution, online: boolean, receivedMs: number, reason?: OfflineReason): void => {
    try {
      const r = tracker.presence(deviceId, online);
      const t = tenantOf(a);
      const partnerId = t?.partnerId ?? null;
      const customerId = t?.customerId ?? null;
      const siteId = t?.siteId ?? null;
      if (r.presenceChanged) hub.publish('device.presence', { ts: receivedMs, partnerId, customerId, deviceId, siteId, online, reason: online ? null : (reason ?? 'last_will') });
      if (r.summary) hub.publish('device.status', { ts: receivedMs, partnerId, customerId, deviceId, siteId, model: a.model, summary: r.summary });
    } catch (err) {
      log.error({ err, deviceId }, 'stream: device.presence failed');
    }
  };
  opts.ingest.on('status', onStatus);
  opts.ingest.on('presence', onPresence);
  unsubscribe.push(() => opts.ingest.off('status', onStatus), () => opts.ingest.off('presence', onPresence));

  // Alerting: the bus payload as it is; its own id becomes sourceId, the stream gives the id.
  const relay = (name: string) => (payload: PublishInput): void => {
    try {
      hub.publish(name, payload);
    } catch (err) {
      log.error({ err, event: name }, 'stream: relaying an alerting event failed');
    }
  };
  const ae = opts.alertEvents;
  const onFiring = relay('alert.firing');
  const onResolved = relay('alert.resolved');
  const onCreated = relay('ticket.created');
  const onUpdated = relay('ticket.updated');
  ae.on('alert.firing', onFiring);
  ae.on('alert.resolved', onResolved);
  ae.on('ticket.created', onCreated);
  ae.on('ticket.updated', onUpdated);
  unsubscribe.push(
    () => ae.off('alert.firing', onFiring),
    () => ae.off('alert.resolved', onResolved),
    () => ae.off('ticket.created', onCreated),
    () => ae.off('ticket.updated', onUpdated),
  );

  const publish = (name: string, data: StreamPublishInput): StreamEvent => {
    let { partnerId, customerId } = data;
    let extra: { siteId?: string } | undefined;
    const deviceId = typeof data.deviceId === 'string' ? data.deviceId : null;
    if (partnerId === undefined && deviceId !== null) {
      const d = registry.getDevice(deviceId);
      if (d) {
        partnerId = d.partnerId;
        customerId ??= d.customerId;
        if (data.siteId === undefined) extra = { siteId: d.siteId };
      }
    }
    return hub.publish(name, {
      ...data,
      ...extra,
      partnerId: typeof partnerId === 'string' ? partnerId : null,
      customerId: typeof customerId === 'string' ? customerId : null,
      deviceId,
    });
  };

  for (const { emitter, events } of opts.sources ?? []) {
    for (const name of events) {
      const listener = (payload: unknown): void => {
        try {
          if (typeof payload !== 'object' || payload === null) throw new Error('payload is not an object');
          publish(name, payload as StreamPublishInput);
        } catch (err) {
          log.error({ err, event: name }, 'stream: publishing a source event failed');
        }
      };
      emitter.on(name, listener);
      unsubscribe.push(() => void emitter.off?.(name, listener));
    }
  }

  return {
    hub,
    io,
    publish,
    stats: () => {
      let pending = 0;
      for (const c of clients.values()) pending += c.pending?.size ?? 0;
      const h = hub.stats();
      return { clients: clients.size, pending, superseded, published: h.published, retained: h.retained };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe) u();
      io.disconnectSockets(true);
      io.engine.close();
      clients.clear();
    },
  };
}

function bad(message: string): { error: { code: string; message: string } } {
  return { error: { code: 'bad_request', message } };
}

function notFound(message: string): { error: { code: string; message: string } } {
  return { error: { code: 'not_found', message } };
}

/** socket.io passes `err.data` to the client's connect_error. */
function withData(err: Error, code: string, message: string): Error {
  (err as Error & { data?: unknown }).data = { code, message };
  return err;
}
