// What the rules need to remember about a device beyond its last snapshot: how often it reports,
// its reboots and the messages it lost on the way (gaps in seq).
import type { OfflineReason } from '../../collector/device-state.js';
import type { StatusSnapshot } from '../../collector/messages.js';

export interface DeviceTrack {
  lastStatusAtMs: number;
  lastSeq: number | undefined;
  lastUptimeS: number | undefined;
  lastGapAtMs: number;
  gapMissing: number;
  /** Times of recent reboots, oldest first (kept for the longest reboot-loop window). */
  reboots: number[];
  /**
   * What counted the latest reboot, until its other sign arrives: a reboot shows as a `reboot`
   * event and as seq restarting at 0, in either order, and must count once.
   */
  rebootSign: 'event' | 'seq' | undefined;
  /** Reachability as the collector decides it (collector/device-state.ts): the offline rule reads only this. */
  presence: 'online' | 'offline' | 'unknown';
  offlineReason: OfflineReason | undefined;
  /** When the device went offline, recent ones first out (kept for the longest flap window). */
  wentOffline: number[];
  /** The version of a software update that failed and has not been installed since. */
  updateFailedTo: string | undefined;
  /** The device's last active `fault` event, until it is cleared. */
  fault: ActiveFault | undefined;
  /** Quality summaries of recently ended calls, oldest first (kept for the longest call window). */
  calls: CallSummary[];
}

export interface ActiveFault {
  code: string;
  component: string;
  severity: 'info' | 'warning' | 'critical';
  /** When the fault was last reported. */
  atMs: number;
}

export interface CallSummary {
  atMs: number;
  mos: number | undefined;
  lossPct: number | undefined;
  jitterMs: number | undefined;
}

export function newTrack(): DeviceTrack {
  return { lastStatusAtMs: 0, lastSeq: undefined, lastUptimeS: undefined, lastGapAtMs: 0, gapMissing: 0, reboots: [], rebootSign: undefined, presence: 'unknown', offlineReason: undefined, wentOffline: [], updateFailedTo: undefined, fault: undefined, calls: [] };
}

const REBOOT_EVENT_DEDUP_MS = 60_000;
/** Calls remembered per device at most, whatever the window: a device cannot hold a day of calls in memory. */
const MAX_CALLS = 50;

/** Updates the track with a snapshot that arrived at `now`. */
export function trackStatus(t: DeviceTrack, s: StatusSnapshot, now: number, rebootWindowMs: number): void {
  t.lastStatusAtMs = now;
  // A report is proof of life, as in the collector's live state (which announces no presence for it).
  t.presence = 'online';
  t.offlineReason = undefined;
  // A failed update installed since (by hand, or a retry whose `done` event was lost).
  if (t.updateFailedTo !== undefined && s.firmware === t.updateFailedTo) t.updateFailedTo = undefined;
  if (t.lastSeq !== undefined) {
    if (s.seq > t.lastSeq + 1) {
      t.lastGapAtMs = now;
      t.gapMissing = s.seq - t.lastSeq - 1;
    } else if (s.seq < t.lastSeq) {
      // seq restarts at 0 on reboot; an older message delivered late has a higher uptime than ours.
      const rebooted = s.uptimeS === undefined || t.lastUptimeS === undefined || s.uptimeS < t.lastUptimeS;
      if (!rebooted) return;
      countReboot(t, 'seq', now, rebootWindowMs);
    } else if (s.seq === t.lastSeq) {
      return; // a redelivery
    }
  }
  t.lastSeq = s.seq;
  t.lastUptimeS = s.uptimeS;
}

/** A reboot event: counted unless a seq restart already counted this reboot. */
export function trackRebootEvent(t: DeviceTrack, now: number, rebootWindowMs: number): void {
  countReboot(t, 'event', now, rebootWindowMs);
}

/** Counts a reboot, unless it is the other sign of the one counted just before (within a minute). */
function countReboot(t: DeviceTrack, sign: 'event' | 'seq', now: number, windowMs: number): void {
  const last = t.reboots.at(-1);
  if (last !== undefined && t.rebootSign !== undefined && t.rebootSign !== sign && now - last < REBOOT_EVENT_DEDUP_MS) {
    t.rebootSign = undefined; // both signs seen: the next of either is a new reboot
    return;
  }
  t.rebootSign = sign;
  recordReboot(t, now, windowMs);
}

function recordReboot(t: DeviceTrack, now: number, windowMs: number): void {
  t.reboots.push(now);
  while (t.reboots.length > 0 && t.reboots[0]! < now - windowMs) t.reboots.shift();
}

export function rebootsWithin(t: DeviceTrack, now: number, windowMs: number): number {
  let n = 0;
  for (const r of t.reboots) if (r >= now - windowMs) n++;
  return n;
}

/**
 * A `software_update` event: `failed` remembers the version; `done` (or a status already reporting
 * that version, see trackStatus) forgets it. `downloading` and `installing` change nothing: a retry
 * in progress has not fixed anything yet.
 */
export function trackUpdateEvent(t: DeviceTrack, data: Record<string, unknown>): void {
  const to = typeof data.to === 'string' ? data.to : undefined;
  if (data.state === 'failed') t.updateFailedTo = to ?? '?';
  else if (data.state === 'done') t.updateFailedTo = undefined;
}

/** Reachability changed (a presence event: Last Will, missed intervals, or back online). */
export function trackPresence(t: DeviceTrack, online: boolean, reason: OfflineReason | undefined, now: number, flapWindowMs: number): void {
  if (!online && t.presence !== 'offline') {
    t.wentOffline.push(now);
    while (t.wentOffline.length > 0 && t.wentOffline[0]! < now - flapWindowMs) t.wentOffline.shift();
  }
  t.presence = online ? 'online' : 'offline';
  t.offlineReason = online ? undefined : reason;
}

export function offlineTimesWithin(t: DeviceTrack, now: number, windowMs: number): number {
  let n = 0;
  for (const at of t.wentOffline) if (at >= now - windowMs) n++;
  return n;
}

/**
 * A `fault` event: data.state `cleared` ends the active fault of that code; anything else makes it
 * the device's active fault (the worst severity wins while one is active).
 */
export function trackFaultEvent(t: DeviceTrack, severity: ActiveFault['severity'], data: Record<string, unknown>, now: number): void {
  const code = typeof data.code === 'string' ? data.code.slice(0, 64) : 'unknown';
  const component = typeof data.component === 'string' ? data.component.slice(0, 32) : 'other';
  if (data.state === 'cleared') {
    if (t.fault && t.fault.code === code) t.fault = undefined;
    return;
  }
  if (t.fault && t.fault.code !== code && SEVERITY_RANK[t.fault.severity] > SEVERITY_RANK[severity]) {
    t.fault.atMs = now; // a lesser fault keeps the worse one alive, it does not replace it
    return;
  }
  t.fault = { code, component, severity, atMs: now };
}

export const SEVERITY_RANK: Record<ActiveFault['severity'], number> = { info: 0, warning: 1, critical: 2 };

/** A `call_ended` event with the call's quality summary. */
export function trackCallEnded(t: DeviceTrack, data: Record<string, unknown>, now: number, windowMs: number): void {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  t.calls.push({ atMs: now, mos: num(data.mos), lossPct: num(data.lossPct), jitterMs: num(data.jitterMs) });
  while (t.calls.length > MAX_CALLS || (t.calls.length > 0 && t.calls[0]!.atMs < now - windowMs)) t.calls.shift();
}
