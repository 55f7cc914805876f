// The live state of every device: its last snapshot and whether it can be reached. One notion of
// "reachable" that the rules, the API, the stream and the page all read: a device is offline by its
// Last Will, by missed reporting intervals (reachability.ts sweeps for those), or because it never
// reported. It is never the system of record (InfluxDB is).
import type { DeviceTenant } from '../src/storage/registry.js';
import type { Peripheral, PeripheralKind, PeripheralState, StatusSnapshot } from './messages.js';

export type PresenceState = 'online' | 'offline' | 'unknown';
/** Why a device counts as offline. */
export type OfflineReason = 'last_will' | 'missed_intervals' | 'never_reported';

export interface DeviceLiveState {
  deviceId: string;
  tenant: DeviceTenant | undefined;
  lastStatus: StatusSnapshot | undefined;
  /** Collector clock when the last snapshot arrived (0: none since start, and none found in InfluxDB). */
  lastStatusAtMs: number;
  /** Estimated reporting interval (ms); undefined until two snapshots arrived close enough. */
  intervalMs: number | undefined;
  presence: PresenceState;
  /** Set while `presence` is `offline`. */
  offlineReason: OfflineReason | undefined;
  /** Collector clock when presence last changed. */
  presenceChangedAtMs: number;
}

/** A device that has been switched off for an hour does not report every hour: longer gaps are no sample. */
const MAX_INTERVAL_SAMPLE_MS = 10 * 60_000;

export class LiveState {
  private readonly devices = new Map<string, DeviceLiveState>();
  /** Registered devices' last reports were read back after a start (see restore()). */
  private restoredFlag = false;

  get size(): number {
    return this.devices.size;
  }

  /** False until the last reports before this start are known: a device not seen yet is `unknown`, not `never_reported`. */
  get restored(): boolean {
    return this.restoredFlag;
  }

  get(deviceId: string): DeviceLiveState | undefined {
    return this.devices.get(deviceId);
  }

  values(): IterableIterator<DeviceLiveState> {
    return this.devices.values();
  }

  private entry(deviceId: string, tenant: DeviceTenant | undefined): DeviceLiveState {
    let s = this.devices.get(deviceId);
    if (!s) {
      s = { deviceId, tenant, lastStatus: undefined, lastStatusAtMs: 0, intervalMs: undefined, presence: 'unknown', offlineReason: undefined, presenceChangedAtMs: 0 };
      this.devices.set(deviceId, s);
    } else {
      s.tenant = tenant;
    }
    return s;
  }

  /** A status snapshot is proof of life: a device that sends one is online. Returns the previous snapshot. */
  recordStatus(deviceId: string, tenant: DeviceTenant | undefined, snapshot: StatusSnapshot, nowMs: number): StatusSnapshot | undefined {
    const s = this.entry(deviceId, tenant);
    const previous = s.lastStatus;
    if (s.lastStatusAtMs > 0) {
      const gap = nowMs - s.lastStatusAtMs;
      if (gap > 0 && gap < MAX_INTERVAL_SAMPLE_MS) s.intervalMs = s.intervalMs === undefined ? gap : 0.8 * s.intervalMs + 0.2 * gap;
    }
    s.lastStatus = snapshot;
    s.lastStatusAtMs = nowMs;
    if (s.presence !== 'online') {
      s.presence = 'online';
      s.offlineReason = undefined;
      s.presenceChangedAtMs = nowMs;
    }
    return previous;
  }

  /**
   * Returns true when the presence changed, or the device's first sign of life was going offline
   * (a device never heard of that drops its connection is a real device gone, not one not installed).
   */
  recordPresence(deviceId: string, tenant: DeviceTenant | undefined, online: boolean, nowMs: number, reason: OfflineReason = 'last_will'): boolean {
    const s = this.entry(deviceId, tenant);
    const next: PresenceState = online ? 'online' : 'offline';
    if (s.presence === next && !(next === 'offline' && s.offlineReason === 'never_reported' && reason !== 'never_reported')) return false;
    s.presence = next;
    s.offlineReason = online ? undefined : reason;
    s.presenceChangedAtMs = nowMs;
    return true;
  }

  /**
   * A `peripheral_state` event: the peripheral's new state counts at once, not at the next status.
   * Returns the patched snapshot (a new object, so whoever keeps the previous one can compare), or
   * undefined when there is no snapshot to patch yet.
   */
  patchPeripheral(deviceId: string, kind: PeripheralKind, state: PeripheralState, model: string | undefined): StatusSnapshot | undefined {
    const s = this.devices.get(deviceId);
    const last = s?.lastStatus;
    if (!s || !last) return undefined;
    const peripherals: Peripheral[] = [...(last.peripherals ?? [])];
    const i = peripherals.findIndex((p) => p.kind === kind && (model === undefined || p.model === undefined || p.model === model));
    if (i >= 0) peripherals[i] = { ...peripherals[i]!, state };
    else peripherals.push({ kind, model, state });
    const failed = peripherals.filter((p) => p.state === 'failed' || p.state === 'disconnected').length;
    s.lastStatus = { ...last, peripherals, peripheralsFailed: failed };
    return s.lastStatus;
  }

  /**
   * Online devices that missed `missedIntervals` reports (their own interval, or the default until
   * it is known), given the timing for their partner. The caller marks them offline.
   */
  *overdue(nowMs: number, timing: (partnerId: string | undefined) => OfflineTiming): Generator<DeviceLiveState> {
    for (const s of this.devices.values()) {
      if (s.presence !== 'online') continue;
      // A device that announced itself online but never sent a status is counted from that moment.
      const lastSign = Math.max(s.lastStatusAtMs, s.presenceChangedAtMs);
      const t = timing(s.tenant?.partnerId);
      const interval = Math.max(s.intervalMs ?? t.defaultIntervalMs, 1000);
      if (nowMs - lastSign > t.missedIntervals * interval) yield s;
    }
  }

  /**
   * After a start: what the registry and InfluxDB say of devices this process has not heard from
   * yet. A device with a last report is online until it misses its intervals; one without is
   * offline, never reported. Devices heard since start keep what they said. Returns the entries
   * whose presence was set (for the events).
   */
  restore(registered: Iterable<DeviceTenant>, lastReports: ReadonlyMap<string, LastReport>, nowMs: number, timing: (partnerId: string | undefined) => OfflineTiming): DeviceLiveState[] {
    const changed: DeviceLiveState[] = [];
    for (const tenant of registered) {
      const existing = this.devices.get(tenant.deviceId);
      if (existing && existing.presence !== 'unknown') continue;
      const s = this.entry(tenant.deviceId, tenant);
      const last = lastReports.get(tenant.deviceId);
      if (!last) {
        s.presence = 'offline';
        s.offlineReason = 'never_reported';
        s.presenceChangedAtMs = nowMs;
        continue;
      }
      s.lastStatusAtMs = Math.min(last.atMs, nowMs);
      s.intervalMs = last.intervalMs !== undefined && last.intervalMs < MAX_INTERVAL_SAMPLE_MS ? last.intervalMs : undefined;
      const t = timing(tenant.partnerId);
      const overdue = nowMs - s.lastStatusAtMs > t.missedIntervals * Math.max(s.intervalMs ?? t.defaultIntervalMs, 1000);
      s.presence = overdue ? 'offline' : 'online';
      s.offlineReason = overdue ? 'missed_intervals' : undefined;
      s.presenceChangedAtMs = nowMs;
      changed.push(s);
    }
    this.restoredFlag = true;
    return changed;
  }
}

/** How many reports a device may miss, and the interval assumed until its own is known (the offline rule's). */
export interface OfflineTiming {
  missedIntervals: number;
  defaultIntervalMs: number;
}

/** A device's last status point in the telemetry store, and its interval estimated from the ones before. */
export interface LastReport {
  atMs: number;
  intervalMs: number | undefined;
}

/** Reachability as the API and the page show it. */
export function reachabilityOf(live: DeviceLiveState | undefined, restored: boolean): { online: PresenceState; offlineReason: OfflineReason | null } {
  if (!live || live.presence === 'unknown') return restored ? { online: 'offline', offlineReason: 'never_reported' } : { online: 'unknown', offlineReason: null };
  return { online: live.presence, offlineReason: live.offlineReason ?? null };
}
