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
import { newTrack, trackRebootEvent, trackStatus, trackUpdateEvent, type DeviceTrack } from './rules/device-track.js';
import type { Rule } from './rules/rule-schema.js';
import type { RuleSet } from './rules/rule-set.js';
import { describe, signal } from './rules/signal.js';

interface DeviceEntry {
  deviceId: string;
  attribution: Attribution;
  snapshot: StatusSnapshot | undefined;
  track: DeviceTrack;
  states: ConditionState[];
  /** Some state is pending or clearing: the sweep must look at every rule of this device. */
  timed: boolean;
}

/** Rule kinds whose answer changes with time alone, without a new message. */
const TIME_KINDS: ReadonlySet<Rule['kind']> = new Set(['offline', 'seq_gap', 'reboot_loop']);

export class AlertEvaluator {
  private readonly devices = new Map<string, DeviceEntry>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly rebootWindowMs: number;

  constructor(
    private readonly rules: RuleSet,
    private readonly manager: AlertManager,
    private readonly resolve: (deviceId: string) => Attribution,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.rebootWindowMs = Math.max(0, ...rules.rules.filter((r) => r.kind === 'reboot_loop').map((r) => r.windowMs));
  }

  /** Takes back what was firing before a restart: it stays firing, and is not announced again. */
  restore(firing: AlertRecord[]): void {
    for (const a of firing) {
      const rule = a.deviceId ? this.rules.byName(a.rule) : undefined;
      if (!rule || !a.deviceId) continue;
      const e = this.entry(a.deviceId, this.resolve(a.deviceId));
      e.states[rule.index] = { phase: 'firing', since: a.startedMs, value: a.value ?? undefined };
    }
  }

  attach(ingest: IngestEvents, sweepEveryMs = 1000): void {
    ingest.on('status', (deviceId, a, s, _previous, now) => this.onStatus(deviceId, a, s, now));
    ingest.on('presence', (deviceId, a, online, now) => this.onPresence(deviceId, a, online, now));
    ingest.on('event', (deviceId, a, e, now) => {
      if (e.type === 'reboot') this.onReboot(deviceId, a, now);
      else if (e.type === 'software_update') this.onUpdateEvent(deviceId, a, e.data, now);
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

  onPresence(deviceId: string, a: Attribution, online: boolean, now: number): void {
    const e = this.entry(deviceId, a);
    e.track.presence = online ? 'online' : 'offline';
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
        return e && rule ? { rule, a: e.attribution, fault: faultOf(rule, e.snapshot), provider: e.snapshot?.cloudProvider } : undefined;
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
      e = { deviceId, attribution: a, snapshot: undefined, track: newTrack(), states: this.rules.rules.map(() => OK), timed: false };
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
      const r = step(before, sig.breached, sig.cleared, value, rule, now);
      if (r.state !== before || r.transition) this.settle(e, rule, r.state, r.transition, now, summary, value);
      const phase = e.states[i]!.phase;
      if (phase === 'pending' || phase === 'clearing') timed = true;
    }
    e.timed = timed;
  }

  private settle(e: DeviceEntry, rule: Rule, state: ConditionState, transition: 'firing' | 'resolved' | undefined, now: number, summary = '', value?: number): void {
    e.states[rule.index] = state;
    if (!transition) return;
    try {
      if (transition === 'firing') this.manager.firing(rule, e.deviceId, e.attribution, summary, value, now, faultOf(rule, e.snapshot), e.snapshot?.cloudProvider);
      else this.manager.resolved(rule, e.deviceId, e.attribution, now);
    } catch (err) {
      // The store failed (disk full, database gone): log it; the state stays as computed and the
      // next evaluation does not repeat the transition, so alerting carries on for other devices.
      this.log.error({ err, rule: rule.name, deviceId: e.deviceId, transition }, 'alert transition could not be recorded');
    }
  }
}

/** The part that failed, for hardware rules (it decides replacement eligibility). */
function faultOf(rule: Rule, s: StatusSnapshot | undefined): string {
  if (rule.kind === 'threshold' && rule.field === 'peripheralsFailed') {
    return s?.peripherals?.find((p) => p.state === 'failed' || p.state === 'disconnected')?.kind ?? 'other';
  }
  return rule.fault ?? rule.name;
}
