// What the rules need to remember about a device beyond its last snapshot: how often it reports,
// its reboots and the messages it lost on the way (gaps in seq).
import type { StatusSnapshot } from '../../collector/messages.js';

export interface DeviceTrack {
  lastStatusAtMs: number;
  /** Estimated reporting interval (ms); undefined until two snapshots arrived. */
  intervalMs: number | undefined;
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
  presence: 'online' | 'offline' | 'unknown';
  /** The version of a software update that failed and has not been installed since. */
  updateFailedTo: string | undefined;
}

export function newTrack(): DeviceTrack {
  return { lastStatusAtMs: 0, intervalMs: undefined, lastSeq: undefined, lastUptimeS: undefined, lastGapAtMs: 0, gapMissing: 0, reboots: [], rebootSign: undefined, presence: 'unknown', updateFailedTo: undefined };
}

const MAX_INTERVAL_SAMPLE_MS = 10 * 60_000;
const REBOOT_EVENT_DEDUP_MS = 60_000;

/** Updates the track with a snapshot that arrived at `now`. */
export function trackStatus(t: DeviceTrack, s: StatusSnapshot, now: number, rebootWindowMs: number): void {
  if (t.lastStatusAtMs > 0) {
    const gap = now - t.lastStatusAtMs;
    // A device that was switched off for an hour does not report every hour: ignore long gaps.
    if (gap > 0 && gap < MAX_INTERVAL_SAMPLE_MS) t.intervalMs = t.intervalMs === undefined ? gap : 0.8 * t.intervalMs + 0.2 * gap;
  }
  t.lastStatusAtMs = now;
  t.presence = 'online';
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
