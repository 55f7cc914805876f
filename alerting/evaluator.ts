// Runs the rules in the stream: fed in-process by the collector's ingest events (no polling of
// InfluxDB), plus a sweep once a second for what time alone decides (a device that went quiet, a
// `for` running out). Per device: the last snapshot, a track of its history, one condition state
// per rule. Transitions go to the AlertManager.
import type { Logger } from 'pino';
import type { IngestEvents } from '../collector/ingest-events.js';
import type { StatusSnapshot } from '../collector/messages.js';
import type { Attribution } from '../collector/tenant-tags.js';
import type { AlertManager } from './alerts/alert-manager.js';
import type { AlertRecord } from './alerts/alert-store.js';
import { OK, step, type ConditionState } from './rules/condition-state.js';
import type { OfflineReason } from '../collector/device-state.js';
import { newTrack, trackCallEnded, trackFaultEvent, trackPresence, trackRebootEvent, trackStatus, trackUpdateEvent, type DeviceTrack } from './rules/device-track.js';
import type { Rule } from './rules/rule-schema.js';
import type { RuleSet } from './rules/rule-set.js';
import { describe, signal } from './rules/signal.js';

interface DeviceEntry {
  deviceId: string;
  attribution: Attribution;
  snapshot: StatusSnapshot | undefined;
  track: DeviceTrack;
  states: ConditionState[];
  /** Some state is pending or clearing, or a hardware fault awaits confirmation: the sweep must look at every rule of this device. */
  timed: boolean;
  /** Hardware rules firing, by rule position: since when, and whether the replacement was decided. */
  hardware: Map<number, { since: number; decided: boolean }> | undefined;
}

/** Rule kinds whose answer changes with time alone, without a new message. */
const TIME_KINDS: ReadonlySet<Rule['kind']> = new Set(['seq_gap', 'reboot_loop', 'fault_event', 'call_quality']);

export class AlertEvaluator {
  private readonly devices = new Map<string, DeviceEntry>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly rebootWindowMs: number;
  private readonly flapWindowMs: number;
  private readonly callWindowMs: number;

  constructor(
    private readonly rules: RuleSet,
    private readonly manager: AlertManager,
    private readonly resolve: (deviceId: string) => Attribution,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.rebootWindowMs = Math.max(0, ...rules.rules.filter((r) => r.kind === 'reboot_loop').map((r) => r.windowMs));
    this.flapWindowMs = Math.max(0, ...rules.rules.filter((r) => r.kind === 'offline').map((r) => r.flapWindowMs));
    this.callWindowMs = Math.max(0, ...rules.rules.filter((r) => r.kind === 'call_quality').map((r) => r.windowMs));
  }

  /** Takes back what was firing before a restart: it stays firing, and is not announced again. */
  restore(firing: AlertRecord[]): void {
    for (const a of firing) {
      const rule = a.deviceId ? this.rules.byName(a.rule) : undefined;
      if (!rule || !a.deviceId) continue;
      const e = this.entry(a.deviceId, this.resolve(a.deviceId));
      e.states[rule.index] = { phase: 'firing', since: a.startedMs, value: a.value ?? undefined };
      // Whether its replacement was decided before is the replacement service's to know: it acts once per ticket.
      if (rule.replacement === 'hardware') (e.hardware ??= new Map()).set(rule.index, { since: a.startedMs, decided: false });
    }
  }

  attach(ingest: IngestEvents, sweepEveryMs = 1000): void {
    ingest.on('status', (deviceId, a, s, _previous, now, derived) => (derived ? this.onPatchedStatus(deviceId, a, s, now) : this.onStatus(deviceId, a, s, now)));
    ingest.on('presence', (deviceId, a, online, now, reason) => this.onPresence(deviceId, a, online, now, reason));
    ingest.on('event', (deviceId, a, e, now) => {
      if (e.type === 'reboot') this.onReboot(deviceId, a, now);
      else if (e.type === 'software_update') this.onUpdateEvent(deviceId, a, e.data, now);
      else if (e.type === 'fault') this.onFault(deviceId, a, e.severity, e.data, now);
      else if (e.type === 'call_ended') this.onCallEnded(deviceId, a, e.data, now);
    });
    this.sweepTimer = setInterval(() => this.sweep(this.clock()), sweepEveryMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  onStatus(deviceId: string, a: Attribution, s: StatusSnapshot, now: number): void {
    const e = this.entry(deviceId, a);
    e.attribution = a;
    e.snapshot = s;
    trackStatus(e.track, s, now, this.rebootWindowMs);
    this.evaluate(e, now, false);
  }

  /** The last snapshot changed without a new report (a `peripheral_state` event): rules see it at once. */
  onPatchedStatus(deviceId: string, a: Attribution, s: StatusSnapshot, now: number): void {
    const e = this.entry(deviceId, a);
    e.attribution = a;
    e.snapshot = s;
    this.evaluate(e, now, false);
  }

  onPresence(deviceId: string, a: Attribution, online: boolean, now: number, reason?: OfflineReason): void {
    const e = this.entry(deviceId, a);
    trackPresence(e.track, online, reason ?? (online ? undefined : 'last_will'), now, this.flapWindowMs);
    this.evaluate(e, now, false);
  }

  onFault(deviceId: string, a: Attribution, severity: 'info' | 'warning' | 'critical', data: Record<string, unknown>, now: number): void {
    const e = this.entry(deviceId, a);
    trackFaultEvent(e.track, severity, data, now);
    this.evaluate(e, now, false);
  }

  onCallEnded(deviceId: string, a: Attribution, data: Record<string, unknown>, now: number): void {
    const e = this.entry(deviceId, a);
    trackCallEnded(e.track, data, now, this.callWindowMs);
    this.evaluate(e, now, false);
  }

  onReboot(deviceId: string, a: Attribution, now: number): void {
    const e = this.entry(deviceId, a);
    trackRebootEvent(e.track, now, this.rebootWindowMs);
    this.evaluate(e, now, false);
  }

  onUpdateEvent(deviceId: string, a: Attribution, data: Record<string, unknown>, now: number): void {
    const e = this.entry(deviceId, a);
    trackUpdateEvent(e.track, data);
    this.evaluate(e, now, false);
  }

  /** Time-driven rules and running `for`/`clearFor` timers, for every device; ended silences. */
  sweep(now: number): void {
    if (this.manager.mutedCount > 0) {
      this.manager.releaseMuted(now, (ruleName, deviceId) => {
        const e = this.devices.get(deviceId);
        const rule = e && this.rules.for(e.attribution.tenant?.partnerId).find((r) => r.name === ruleName);
        return e && rule ? { rule, a: e.attribution, fault: faultOf(rule, e.snapshot, e.track), provider: e.snapshot?.cloudProvider } : undefined;
      });
    }
    for (const e of this.devices.values()) {
      // Nothing heard since start (a restored alert): hold what we had until the device speaks.
      if (e.track.lastStatusAtMs === 0 && e.track.presence === 'unknown') continue;
      this.evaluate(e, now, true);
    }
  }

  /** Firing alerts known to this evaluator, for tests and the API: device -> rule names. */
  firingRules(deviceId: string): string[] {
    const e = this.devices.get(deviceId);
    if (!e) return [];
    const rules = this.rules.for(e.attribution.tenant?.partnerId);
    return rules.filter((r) => e.states[r.index]?.phase === 'firing' || e.states[r.index]?.phase === 'clearing').map((r) => r.name);
  }

  private dayStart = 0;
  private dayIso = '';
  /** UTC date of `now` as YYYY-MM-DD, recomputed once a day rather than per message. */
  private today(now: number): string {
    if (now < this.dayStart || now >= this.dayStart + 86_400_000) {
      this.dayStart = now - (now % 86_400_000);
      this.dayIso = new Date(this.dayStart).toISOString().slice(0, 10);
    }
    return this.dayIso;
  }

  private entry(deviceId: string, a: Attribution): DeviceEntry {
    let e = this.devices.get(deviceId);
    if (!e) {
      e = { deviceId, attribution: a, snapshot: undefined, track: newTrack(), states: this.rules.rules.map(() => OK), timed: false, hardware: undefined };
      this.devices.set(deviceId, e);
    }
    return e;
  }

  private evaluate(e: DeviceEntry, now: number, timeOnly: boolean): void {
    const rules = this.rules.for(e.attribution.tenant?.partnerId);
    const today = this.today(now);
    let timed = false;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const before = e.states[i]!;
      if (timeOnly && !e.timed && !TIME_KINDS.has(rule.kind)) continue;
      if (!rule.enabled) {
        if (before.phase !== 'ok') this.settle(e, rule, OK, before.phase === 'firing' || before.phase === 'clearing' ? 'resolved' : undefined, now);
        continue;
      }
      const sig = signal(rule, e, now, today);
      const value = sig.value;
      const summary = sig.breached ? describe(rule, value, sig.threshold, e) : '';
      const valueBefore = before.value;
      const r = step(before, sig.breached, sig.cleared, value, rule, now);
      if (r.state !== before || r.transition) this.settle(e, rule, r.state, r.transition, now, summary, value);
      const after = e.states[i]!;
      const phase = after.phase;
      // A flapping device keeps its one alert; what it says (how often) follows.
      if (rule.kind === 'offline' && phase === 'firing' && !r.transition && sig.breached && valueBefore !== after.value) this.refresh(e, rule, summary, after.value, now);
      if (rule.replacement === 'hardware' && this.confirmHardware(e, rule, phase, now)) timed = true;
      if (phase === 'pending' || phase === 'clearing') timed = true;
    }
    e.timed = timed;
  }

  /**
   * A hardware rule proposes a replacement only once its fault has kept firing for `confirmFor`
   * (a part ships for a fault that persists, not for a blip). Returns true while still waiting.
   */
  private confirmHardware(e: DeviceEntry, rule: Rule, phase: ConditionState['phase'], now: number): boolean {
    if (phase !== 'firing') {
      e.hardware?.delete(rule.index);
      return false;
    }
    let h = e.hardware?.get(rule.index);
    if (!h) (e.hardware ??= new Map()).set(rule.index, (h = { since: now, decided: false }));
    if (h.decided) return false;
    if (now - h.since < rule.confirmForMs) return true;
    try {
      h.decided = this.manager.hardwareConfirmed(rule, e.deviceId, e.attribution, faultOf(rule, e.snapshot, e.track), now);
    } catch (err) {
      h.decided = true; // logged; a broken store must not retry every second
      this.log.error({ err, rule: rule.name, deviceId: e.deviceId }, 'hardware fault could not be confirmed');
    }
    return !h.decided;
  }

  private refresh(e: DeviceEntry, rule: Rule, summary: string, value: number | undefined, now: number): void {
    try {
      this.manager.refresh(rule, e.deviceId, summary, value, now);
    } catch (err) {
      this.log.error({ err, rule: rule.name, deviceId: e.deviceId }, 'alert could not be updated');
    }
  }

  private settle(e: DeviceEntry, rule: Rule, state: ConditionState, transition: 'firing' | 'resolved' | undefined, now: number, summary = '', value?: number): void {
    e.states[rule.index] = state;
    if (!transition) return;
    try {
      if (transition === 'firing') this.manager.firing(rule, e.deviceId, e.attribution, summary, value, now, faultOf(rule, e.snapshot, e.track), e.snapshot?.cloudProvider);
      else this.manager.resolved(rule, e.deviceId, e.attribution, now);
    } catch (err) {
      // The store failed (disk full, database gone): log it; the state stays as computed and the
      // next evaluation does not repeat the transition, so alerting carries on for other devices.
      this.log.error({ err, rule: rule.name, deviceId: e.deviceId, transition }, 'alert transition could not be recorded');
    }
  }
}

/**
 * The part that failed, for hardware rules (it decides replacement eligibility). A peripheral that
 * is only `disconnected` is a cable, not a broken part: `disconnected` never ships one.
 */
function faultOf(rule: Rule, s: StatusSnapshot | undefined, t: DeviceTrack): string {
  if (rule.kind === 'threshold' && rule.field === 'peripheralsFailed') {
    const failed = s?.peripherals?.find((p) => p.state === 'failed');
    if (failed) return failed.kind;
    return s?.peripherals?.some((p) => p.state === 'disconnected') ? 'disconnected' : 'other';
  }
  if (rule.kind === 'fault_event') return rule.fault ?? t.fault?.component ?? 'other';
  return rule.fault ?? rule.name;
}
