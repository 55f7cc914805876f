// The live state of every device seen since start: its last snapshot and its presence.
// Alerting and the API read it; it is never the system of record (InfluxDB is).
import type { DeviceTenant } from '../src/storage/registry.js';
import type { StatusSnapshot } from './messages.js';

export type PresenceState = 'online' | 'offline' | 'unknown';

export interface DeviceLiveState {
  deviceId: string;
  tenant: DeviceTenant | undefined;
  lastStatus: StatusSnapshot | undefined;
  /** Collector clock when the last snapshot arrived. */
  lastStatusAtMs: number;
  presence: PresenceState;
  /** Collector clock when presence last changed. */
  presenceChangedAtMs: number;
}

export class LiveState {
  private readonly devices = new Map<string, DeviceLiveState>();

  get size(): number {
    return this.devices.size;
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
      s = { deviceId, tenant, lastStatus: undefined, lastStatusAtMs: 0, presence: 'unknown', presenceChangedAtMs: 0 };
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
    s.lastStatus = snapshot;
    s.lastStatusAtMs = nowMs;
    if (s.presence !== 'online') {
      s.presence = 'online';
      s.presenceChangedAtMs = nowMs;
    }
    return previous;
  }

  /** Returns true when the presence changed. */
  recordPresence(deviceId: string, tenant: DeviceTenant | undefined, online: boolean, nowMs: number): boolean {
    const s = this.entry(deviceId, tenant);
    const next: PresenceState = online ? 'online' : 'offline';
    if (s.presence === next) return false;
    s.presence = next;
    s.presenceChangedAtMs = nowMs;
    return true;
  }
}
