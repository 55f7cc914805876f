// `device.status` is "a device's health summary changed (not every raw snapshot)": a small summary
// is derived from each status snapshot, and sent only when it differs from the last one sent for
// that device. Devices report every few seconds; the summary changes rarely.
import type { StatusSnapshot } from '../../collector/messages.js';

export type Health = 'ok' | 'degraded' | 'critical';

/** Why a device is not `ok`, in a fixed order. */
export type HealthReason =
  | 'offline'
  | 'link_down'
  | 'cloud_unregistered'
  | 'peripheral_failed'
  | 'overheating'
  | 'packet_loss'
  | 'jitter_high'
  | 'latency_high'
  | 'poor_call_quality';

export interface DeviceSummary {
  health: Health;
  /** Empty when ok. */
  reasons: HealthReason[];
  online: boolean;
  /** Rounded to the degree; null when not reported (as for every field below). */
  tempC: number | null;
  linkUp: boolean | null;
  inCall: boolean | null;
  cloudRegistered: boolean | null;
  peripheralsFailed: number | null;
  firmware: string;
}

/** Thresholds: the fire levels of the shipped alert rules (docs/alerting.md). */
export const HEALTH_LIMITS = {
  tempC: 75,
  lossPct: 5,
  jitterMs: 40,
  rttMs: 300,
  mos: 3.5,
} as const;

/**
 * The summary of one snapshot. critical: link down, cloud not registered, a peripheral failed,
 * temperature > 75 °C (or the device is offline); degraded: loss > 5 %, jitter > 40 ms,
 * RTT > 300 ms, or MOS < 3.5 in a call; else ok. Values not reported count as fine.
 */
export function summarize(s: StatusSnapshot, online = true): DeviceSummary {
  const reasons: HealthReason[] = [];
  if (!online) reasons.push('offline');
  if (s.linkUp === false) reasons.push('link_down');
  if (s.cloudRegistered === false) reasons.push('cloud_unregistered');
  if (s.peripheralsFailed !== undefined && s.peripheralsFailed > 0) reasons.push('peripheral_failed');
  if (s.tempC !== undefined && s.tempC > HEALTH_LIMITS.tempC) reasons.push('overheating');
  const critical = reasons.length > 0;
  if (s.lossPct !== undefined && s.lossPct > HEALTH_LIMITS.lossPct) reasons.push('packet_loss');
  if (s.jitterMs !== undefined && s.jitterMs > HEALTH_LIMITS.jitterMs) reasons.push('jitter_high');
  if (s.rttMs !== undefined && s.rttMs > HEALTH_LIMITS.rttMs) reasons.push('latency_high');
  if (s.mos !== undefined && s.inCall !== false && s.mos < HEALTH_LIMITS.mos) reasons.push('poor_call_quality');
  return {
    health: critical ? 'critical' : reasons.length > 0 ? 'degraded' : 'ok',
    reasons,
    online,
    tempC: s.tempC === undefined ? null : Math.round(s.tempC),
    linkUp: s.linkUp ?? null,
    inCall: s.inCall ?? null,
    cloudRegistered: s.cloudRegistered ?? null,
    peripheralsFailed: s.peripheralsFailed ?? null,
    firmware: s.firmware,
  };
}

/** The same summary with another presence (health and reasons follow). */
export function withPresence(summary: DeviceSummary, online: boolean): DeviceSummary {
  if (summary.online === online) return summary;
  const rest = summary.reasons.filter((r) => r !== 'offline');
  const reasons: HealthReason[] = online ? rest : ['offline', ...rest];
  const critical = reasons.some((r) => CRITICAL.has(r));
  return { ...summary, online, reasons, health: critical ? 'critical' : reasons.length > 0 ? 'degraded' : 'ok' };
}

const CRITICAL: ReadonlySet<HealthReason> = new Set(['offline', 'link_down', 'cloud_unregistered', 'peripheral_failed', 'overheating']);

export function sameSummary(a: DeviceSummary, b: DeviceSummary): boolean {
  if (
    a.health !== b.health ||
    a.online !== b.online ||
    a.tempC !== b.tempC ||
    a.linkUp !== b.linkUp ||
    a.inCall !== b.inCall ||
    a.cloudRegistered !== b.cloudRegistered ||
    a.peripheralsFailed !== b.peripheralsFailed ||
    a.firmware !== b.firmware ||
    a.reasons.length !== b.reasons.length
  ) {
    return false;
  }
  for (let i = 0; i < a.reasons.length; i++) if (a.reasons[i] !== b.reasons[i]) return false;
  return true;
}

export interface PresenceChange {
  /** The device's presence changed as far as the stream knows: send device.presence. */
  presenceChanged: boolean;
  /** The summary to send as device.status, when it changed. */
  summary: DeviceSummary | undefined;
}

export const DEFAULT_MAX_TRACKED_DEVICES = 500_000;

/**
 * Per device: the last summary sent and the presence the stream last announced. Bounded: past
 * `maxDevices` the device seen longest ago is forgotten (a flood of made-up ids must not grow memory;
 * a forgotten device just gets its next summary sent again).
 */
export class DeviceSummaryTracker {
  private readonly sent = new Map<string, DeviceSummary>();
  private readonly online = new Map<string, boolean>();

  constructor(private readonly maxDevices = DEFAULT_MAX_TRACKED_DEVICES) {}

  /**
   * A status snapshot arrived (a status is proof of life). Returns the summary to send when it
   * differs from the last one sent, and whether the device came back from offline.
   */
  status(deviceId: string, snapshot: StatusSnapshot): PresenceChange {
    const wasOnline = this.online.get(deviceId);
    const presenceChanged = wasOnline === false;
    if (wasOnline !== true) this.remember(this.online, deviceId, true);
    const next = summarize(snapshot, true);
    const last = this.sent.get(deviceId);
    if (last !== undefined && sameSummary(last, next)) return { presenceChanged, summary: undefined };
    this.remember(this.sent, deviceId, next);
    return { presenceChanged, summary: next };
  }

  /** A presence message arrived. The summary, when one was sent before, follows the presence. */
  presence(deviceId: string, online: boolean): PresenceChange {
    const presenceChanged = this.online.get(deviceId) !== online;
    if (presenceChanged) this.remember(this.online, deviceId, online);
    const last = this.sent.get(deviceId);
    if (last === undefined || last.online === online) return { presenceChanged, summary: undefined };
    const next = withPresence(last, online);
    this.sent.set(deviceId, next);
    return { presenceChanged, summary: next };
  }

  /** The last summary sent for a device. */
  get(deviceId: string): DeviceSummary | undefined {
    return this.sent.get(deviceId);
  }

  get size(): number {
    return this.sent.size;
  }

  private remember<V>(map: Map<string, V>, deviceId: string, value: V): void {
    if (!map.has(deviceId) && map.size >= this.maxDevices) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(deviceId, value);
  }
}
