// Turns silence into an offline presence, the same way a Last Will does: once a second, online
// devices that missed their reporting intervals go offline (reason `missed_intervals`), with a
// `device_presence` point and a `presence` ingest event, so the rules, the stream and the API see
// one answer. After a start, `restore` gives every registered device the expectation it had: its
// last report in InfluxDB, so a device that stopped reporting while the service was down still
// goes offline on time.
import type { Logger } from 'pino';
import type { DeviceTenant } from '../src/storage/registry.js';
import type { LastReport, LiveState, OfflineTiming } from './device-state.js';
import type { IngestEvents } from './ingest-events.js';
import { presenceLine } from './line-protocol.js';
import type { TenantResolver } from './tenant-tags.js';

export interface ReachabilityDeps {
  liveState: LiveState;
  resolver: TenantResolver;
  events: IngestEvents;
  /** Stages a line for InfluxDB and writes it through (outside an MQTT burst). */
  writePoint: (line: string) => void;
  /** The offline rule's timing for a partner's devices. */
  timing: (partnerId: string | undefined) => OfflineTiming;
  log: Logger;
  clock?: () => number;
}

export class Reachability {
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly d: ReachabilityDeps) {
    this.clock = d.clock ?? Date.now;
  }

  start(everyMs = 1000): this {
    this.timer = setInterval(() => this.sweep(this.clock()), everyMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.stopped = true;
  }

  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  /** restore() once the last reports can be read (InfluxDB may be down at start: tried again every 5 s). */
  restoreFrom(registered: () => Iterable<DeviceTenant>, read: () => Promise<ReadonlyMap<string, LastReport>>): void {
    let warned = false;
    const attempt = async () => {
      if (this.stopped) return;
      try {
        const last = await read();
        if (!this.stopped) this.restore(registered(), last);
      } catch (err) {
        if (!warned) this.d.log.warn({ err: (err as Error).message }, 'last reports not readable yet; devices not heard since start stay unknown meanwhile');
        warned = true;
        if (!this.stopped) (this.retry = setTimeout(() => void attempt(), 5000)).unref();
      }
    };
    void attempt();
  }

  /** Marks overdue devices offline; returns how many went offline. */
  sweep(now: number): number {
    // Collected first: marking a device changes the map being walked.
    const overdue = [...this.d.liveState.overdue(now, this.d.timing)];
    for (const s of overdue) {
      const a = this.d.resolver.resolve(s.deviceId, undefined);
      if (!this.d.liveState.recordPresence(s.deviceId, a.tenant, false, now, 'missed_intervals')) continue;
      this.d.writePoint(presenceLine(a.tagSet, false, now, 'missed_intervals'));
      this.d.events.emit('presence', s.deviceId, a, false, now, 'missed_intervals');
    }
    return overdue.length;
  }

  /**
   * Sets the expectation of every registered device not heard from since start, from its last
   * report before. Devices found overdue go offline now (and their alert fires, if it was not
   * firing already); the others are online until they miss their intervals.
   */
  restore(registered: Iterable<DeviceTenant>, lastReports: ReadonlyMap<string, LastReport>): void {
    const now = this.clock();
    const changed = this.d.liveState.restore(registered, lastReports, now, this.d.timing);
    let offline = 0;
    for (const s of changed) {
      const a = this.d.resolver.resolve(s.deviceId, undefined);
      const online = s.presence === 'online';
      if (!online) offline++;
      this.d.events.emit('presence', s.deviceId, a, online, now, online ? undefined : 'missed_intervals');
    }
    this.d.log.info({ devices: changed.length, offline, reported: lastReports.size }, 'reachability restored from the last reports in InfluxDB');
  }
}
