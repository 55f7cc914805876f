// A rule applied to one device at one moment: is the fire condition met, is the clear condition met,
// and the value to report. One function per rule kind; pure.
import type { DeviceTenant } from '../../src/storage/registry.js';
import type { StatusSnapshot } from '../../collector/messages.js';
import { offlineTimesWithin, rebootsWithin, SEVERITY_RANK, type DeviceTrack } from './device-track.js';
import { compareVersions, MIN_FIRMWARE } from './firmware-catalog.js';
import type { Rule } from './rule-schema.js';

export interface Signal {
  breached: boolean;
  cleared: boolean;
  value: number | undefined;
  threshold: number | undefined;
}

export interface DeviceView {
  attribution: { tenant: DeviceTenant | undefined };
  snapshot: StatusSnapshot | undefined;
  track: DeviceTrack;
}

// One scratch object, reused: this runs for every rule on every message.
const out: Signal = { breached: false, cleared: true, value: undefined, threshold: undefined };

function result(breached: boolean, cleared: boolean, value: number | undefined, threshold: number | undefined): Signal {
  out.breached = breached;
  out.cleared = cleared;
  out.value = value;
  out.threshold = threshold;
  return out;
}

const NOTHING = (): Signal => result(false, true, undefined, undefined);

/** The returned object is reused by the next call: read it before calling again. */
export function signal(rule: Rule, d: DeviceView, now: number, todayIso: string): Signal {
  switch (rule.kind) {
    case 'threshold': {
      const s = d.snapshot;
      if (!s || (rule.inCallOnly && s.inCall !== true)) return NOTHING();
      const v = s[rule.field];
      if (v === undefined) return NOTHING();
      const clear = rule.clear ?? rule.fire;
      return rule.op === '>' ? result(v > rule.fire, v <= clear, v, rule.fire) : result(v < rule.fire, v >= clear, v, rule.fire);
    }
    case 'flag': {
      const v = d.snapshot?.[rule.field];
      if (v === undefined) return NOTHING();
      return result(v === rule.bad, v !== rule.bad, undefined, undefined);
    }
    case 'offline': {
      // Reachability is decided once, in the collector (Last Will or missed intervals); a device
      // that never reported is not an alert. The value is how often it went offline lately.
      const t = d.track;
      const down = t.presence === 'offline' && t.offlineReason !== 'never_reported';
      return result(down, t.presence === 'online', down ? offlineTimesWithin(t, now, rule.flapWindowMs) : undefined, undefined);
    }
    case 'fault_event': {
      const f = d.track.fault;
      const active =
        f !== undefined &&
        SEVERITY_RANK[f.severity] >= SEVERITY_RANK[rule.minSeverity] &&
        now - f.atMs < rule.clearAfterMs &&
        (rule.components === undefined || rule.components.includes(f.component));
      return result(active, !active, undefined, undefined);
    }
    case 'call_quality': {
      let bad = 0;
      for (const c of d.track.calls) {
        if (c.atMs < now - rule.windowMs) continue;
        if ((c.mos !== undefined && c.mos < rule.mosBelow) || (c.lossPct !== undefined && c.lossPct > rule.lossAbove) || (c.jitterMs !== undefined && c.jitterMs > rule.jitterAbove)) bad++;
      }
      return result(bad >= rule.count, bad < rule.count, bad, rule.count);
    }
    case 'seq_gap': {
      const recent = d.track.lastGapAtMs > 0 && now - d.track.lastGapAtMs < rule.windowMs;
      return result(recent, !recent, recent ? d.track.gapMissing : undefined, undefined);
    }
    case 'reboot_loop': {
      const n = rebootsWithin(d.track, now, rule.windowMs);
      return result(n >= rule.count, n < rule.count, n, rule.count);
    }
    case 'firmware_min': {
      const s = d.snapshot;
      const model = d.attribution.tenant?.model ?? s?.model;
      const min = model === undefined ? undefined : (rule.minimum[model] ?? MIN_FIRMWARE[model]);
      if (!s || min === undefined) return NOTHING();
      const below = compareVersions(s.firmware, min) < 0;
      return result(below, !below, undefined, undefined);
    }
    case 'unregistered':
      return result(d.attribution.tenant === undefined, d.attribution.tenant !== undefined, undefined, undefined);
    case 'update_failed': {
      const failed = d.track.updateFailedTo !== undefined;
      return result(failed, !failed, undefined, undefined);
    }
    case 'uncovered': {
      const tenant = d.attribution.tenant;
      const until = tenant?.coverage.until;
      const expired = tenant !== undefined && until !== null && until !== undefined && until < todayIso;
      return result(expired, !expired, undefined, undefined);
    }
  }
}

export function describe(rule: Rule, value: number | undefined, threshold: number | undefined, d?: DeviceView): string {
  const firmware = d?.snapshot?.firmware ?? '?';
  const model = d?.attribution.tenant?.model ?? d?.snapshot?.model;
  const minimum = model === undefined ? '?' : rule.kind === 'firmware_min' ? (rule.minimum[model] ?? MIN_FIRMWARE[model] ?? '?') : '?';
  const fault = d?.track.fault;
  return rule.summary
    .replace('{firmware}', firmware)
    .replace('{code}', fault?.code ?? '?')
    .replace('{component}', fault?.component ?? '?')
    .replace('{reason}', offlineReasonText(d))
    .replace('{flaps}', value !== undefined && value > 1 && rule.kind === 'offline' ? `; flapping, offline ${value} times in ${Math.round(rule.flapWindowMs / 60_000)} min` : '')
    .replace('{target}', d?.track.updateFailedTo ?? '?')
    .replace('{minimum}', minimum).replace('{value}', value === undefined ? '?' : String(Math.round(value * 100) / 100)).replace('{threshold}', threshold === undefined ? '?' : String(threshold));
}

function offlineReasonText(d: DeviceView | undefined): string {
  switch (d?.track.offlineReason) {
    case 'last_will':
      return 'connection lost (Last Will)';
    case 'missed_intervals':
      return 'no reports within the expected interval';
    default:
      return 'unreachable';
  }
}
