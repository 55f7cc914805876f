// The ingest pipeline for one message: topic -> decode -> attribute -> journal -> live state -> events.
// Synchronous on purpose: when handle() returns, the message is set aside (durably) or its line is
// staged in the journal, and may be acknowledged once the journal is flushed (the subscriber does
// that, once per burst). It never throws for bad input.
import type { Logger } from 'pino';
import type { UnknownDeviceLog } from '../src/storage/unknown-devices.js';
import type { DeadLetters } from './dead-letters.js';
import type { TimeWindow } from './decode-json.js';
import { decodeEvent } from './decode-event.js';
import { decodePresence } from './decode-presence.js';
import { decodeReply } from './decode-reply.js';
import { decodeStatus } from './decode-status.js';
import type { LiveState } from './device-state.js';
import type { IngestEvents } from './ingest-events.js';
import type { Journal } from './journal.js';
import { eventLine, presenceLine, statusLine } from './line-protocol.js';
import type { CollectorMetrics } from './metrics.js';
import { PERIPHERAL_KINDS, PERIPHERAL_STATES } from './messages.js';
import { Rejection } from './rejection.js';
import type { Attribution, TenantResolver } from './tenant-tags.js';
import { parseTopic } from './topic.js';

const MAX_ANNOUNCED_UNKNOWN = 100_000;

export interface CollectorDeps {
  journal: Journal;
  resolver: TenantResolver;
  deadLetters: DeadLetters;
  unknownDevices: UnknownDeviceLog;
  liveState: LiveState;
  events: IngestEvents;
  metrics: CollectorMetrics;
  log: Logger;
  timeWindow?: TimeWindow;
}

export class Collector {
  private readonly announcedUnknown = new Set<string>();

  constructor(private readonly d: CollectorDeps) {}

  /** `retained`: the broker replayed a stored message on subscribe (old news, not a new fact). */
  handle(topic: string, payload: Buffer, retained: boolean, nowMs: number): void {
    let deviceId: string | undefined;
    try {
      const t = parseTopic(topic);
      if (t instanceof Rejection) {
        this.d.metrics.unknownTopic.inc();
        this.d.deadLetters.setAside(topic, undefined, payload, t, nowMs);
        return;
      }
      deviceId = t.deviceId;
      this.d.metrics.received[t.kind].inc();
      switch (t.kind) {
        case 'status':
          return this.status(topic, t.deviceId, payload, nowMs);
        case 'events':
          return this.event(topic, t.deviceId, payload, nowMs);
        case 'presence':
          return this.presence(topic, t.deviceId, payload, retained, nowMs);
        case 'replies':
          return this.reply(topic, t.deviceId, payload, nowMs);
        case 'commands':
          return; // our own commands to devices, seen because we subscribe to poly/v1/#
      }
    } catch (err) {
      // A bug, not bad input: keep the message and the collector, and say so loudly.
      this.d.log.error({ err, topic }, 'internal error while handling a message');
      this.d.deadLetters.setAside(topic, deviceId, payload, new Rejection('internal_error', String((err as Error).message)), nowMs);
    }
  }

  private status(topic: string, deviceId: string, payload: Buffer, nowMs: number): void {
    const s = decodeStatus(payload, nowMs, this.d.timeWindow);
    if (s instanceof Rejection) return this.d.deadLetters.setAside(topic, deviceId, payload, s, nowMs);
    if (s.droppedFields > 0) this.d.metrics.droppedFields.inc(s.droppedFields);
    const a = this.attribute(deviceId, s.model, nowMs);
    this.d.journal.stage(statusLine(a.tagSet, s));
    const previous = this.d.liveState.recordStatus(deviceId, a.tenant, s, nowMs);
    this.d.events.emit('status', deviceId, a, s, previous, nowMs);
  }

  private event(topic: string, deviceId: string, payload: Buffer, nowMs: number): void {
    const e = decodeEvent(payload, nowMs, this.d.timeWindow);
    if (e instanceof Rejection) return this.d.deadLetters.setAside(topic, deviceId, payload, e, nowMs);
    const a = this.attribute(deviceId, undefined, nowMs);
    this.d.journal.stage(eventLine(a.tagSet, e));
    this.d.events.emit('event', deviceId, a, e, nowMs);
    if (e.type === 'peripheral_state') this.peripheralChanged(deviceId, a, e.data, nowMs);
  }

  /**
   * A peripheral changed state: the live snapshot changes at once and is announced as a status
   * (marked derived: no new report arrived), so rules and streams do not wait for the next status.
   */
  private peripheralChanged(deviceId: string, a: Attribution, data: Record<string, unknown>, nowMs: number): void {
    const kind = data.kind;
    const state = data.to ?? data.state;
    if (!isOneOf(kind, PERIPHERAL_KINDS) || !isOneOf(state, PERIPHERAL_STATES)) return;
    const previous = this.d.liveState.get(deviceId)?.lastStatus;
    const patched = this.d.liveState.patchPeripheral(deviceId, kind, state, typeof data.model === 'string' ? data.model : undefined);
    if (patched) this.d.events.emit('status', deviceId, a, patched, previous, nowMs, true);
  }

  private presence(topic: string, deviceId: string, payload: Buffer, retained: boolean, nowMs: number): void {
    const p = decodePresence(payload, nowMs);
    if (p instanceof Rejection) return this.d.deadLetters.setAside(topic, deviceId, payload, p, nowMs);
    const a = this.attribute(deviceId, undefined, nowMs);
    const online = p.state === 'online';
    // Stored at the collector's clock: a Last Will carries the ts of the connection it was set on,
    // not of the disconnection. A retained replay is no new transition and is not stored again.
    if (!retained) this.d.journal.stage(presenceLine(a.tagSet, online, nowMs, online ? undefined : 'last_will'));
    if (this.d.liveState.recordPresence(deviceId, a.tenant, online, nowMs, 'last_will')) {
      this.d.events.emit('presence', deviceId, a, online, nowMs, online ? undefined : 'last_will');
    }
  }

  private reply(topic: string, deviceId: string, payload: Buffer, nowMs: number): void {
    const r = decodeReply(payload);
    if (r instanceof Rejection) return this.d.deadLetters.setAside(topic, deviceId, payload, r, nowMs);
    this.d.events.emit('reply', deviceId, this.attribute(deviceId, undefined, nowMs), r, nowMs);
  }

  private attribute(deviceId: string, model: string | undefined, nowMs: number): Attribution {
    const a = this.d.resolver.resolve(deviceId, model);
    if (!a.tenant) {
      this.d.metrics.unknownDeviceMessages.inc();
      this.d.unknownDevices.record(deviceId, model ?? null, nowMs);
      if (!this.announcedUnknown.has(deviceId)) {
        // Bounded against a flood of made-up ids: at worst a device is announced again.
        if (this.announcedUnknown.size >= MAX_ANNOUNCED_UNKNOWN) this.announcedUnknown.clear();
        this.announcedUnknown.add(deviceId);
        this.d.events.emit('unknown-device', deviceId, model, nowMs);
      }
    }
    return a;
  }
}

function isOneOf<T extends string>(v: unknown, values: readonly T[]): v is T {
  return typeof v === 'string' && (values as readonly string[]).includes(v);
}
