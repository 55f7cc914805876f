/**
 * One simulated device: a pure, seedable state machine. No I/O, no clock, no Math.random: the caller
 * passes the time, so the same seed and the same sequence of times give the same snapshots.
 */
import { hashString, Prng } from './prng.js';
import { pickFirmware, resolveModel, type ModelSpec, type Range } from './models.js';
import type {
  CallEndedData,
  PeripheralState,
  PeripheralStatus,
  Platform,
  PresencePayload,
  PresenceState,
  StatusSnapshot,
} from './protocol.js';

export interface DeviceOptions {
  id: string;
  /** Catalog name (resolved with resolveModel) or a spec. */
  model: string | ModelSpec;
  /** Fleet seed; the device's own stream is derived from it and the id (default 1). */
  seed?: number;
  /** Offset of the device's local time from UTC in minutes, for the daily call pattern (default 0). */
  utcOffsetMin?: number;
  /**
   * Rare random faults (a peripheral degrading, cloud registration dropping; default true). Off when
   * a scenario plays, so the faults a run shows are exactly the scripted ones.
   */
  randomFaults?: boolean;
}

/** Values a fault scenario can force on a device (see simulators/scenario/). `mos` shows only in calls. */
export const OVERRIDABLE = ['tempC', 'fanRpm', 'cpuPct', 'rttMs', 'jitterMs', 'lossPct', 'mos'] as const;
export type OverridableField = (typeof OVERRIDABLE)[number];

/** A forced value: held at `to`, or moved linearly from `from` to `to` over `overMs` starting at `atMs`. */
export interface Override {
  from: number;
  to: number;
  atMs: number;
  overMs: number;
  /** A restore: once the ramp is over the field goes back to the device's own walk. */
  release?: boolean;
}

/**
 * A call is bad (its `call_ended` event a warning, not info) when its average MOS, loss or jitter
 * is past these: the same limits as the service's `bad_calls` rule.
 */
export const BAD_CALL = { mosBelow: 3.5, lossAbove: 5, jitterAbove: 40 } as const;

export function isBadCall(c: CallEndedData): boolean {
  return c.mos < BAD_CALL.mosBelow || c.lossPct > BAD_CALL.lossAbove || c.jitterMs > BAD_CALL.jitterAbove;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

// Rare events, per hour. Low enough that a healthy simulated fleet looks healthy.
const PERIPHERAL_FAULTS_PER_HOUR = 0.01;
const PERIPHERAL_RECOVERY_S = 15 * 60;
const PERIPHERAL_FAILED_RECOVERY_S = 4 * 3600;
const CLOUD_DROPS_PER_HOUR = 0.02;
const CLOUD_OUTAGE_S = 5 * 60;

/**
 * Mean-reverting random walk (Ornstein-Uhlenbeck, exact discretisation): values drift smoothly around
 * a mean that may move (cpu rises in a call), stay inside bounds, and do not depend on how often they
 * are sampled.
 */
class Walk {
  value: number;

  constructor(
    public mean: number,
    private readonly sigma: number,
    private readonly tauS: number,
    private readonly lo: number,
    private readonly hi: number,
    rng: Prng,
  ) {
    this.value = clamp(mean + sigma * rng.normal(), lo, hi);
  }

  /** Move the current value (and nothing else), e.g. to start a device already in a call. */
  shift(delta: number): void {
    this.value = clamp(this.value + delta, this.lo, this.hi);
  }

  step(rng: Prng, dtS: number): number {
    if (dtS > 0) {
      const a = Math.exp(-dtS / this.tauS);
      const v = this.mean + (this.value - this.mean) * a + this.sigma * Math.sqrt(1 - a * a) * rng.normal();
      this.value = clamp(v, this.lo, this.hi);
    }
    return this.value;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function span(r: Range): number {
  return r.max - r.min;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Probability that an event with the given rate (per second) happens within dtS seconds. */
function within(ratePerS: number, dtS: number): number {
  return 1 - Math.exp(-ratePerS * dtS);
}

/** Weekday business hours get the full call rate; evenings, nights and weekends far less. */
export function dailyCallFactor(localMs: number): number {
  const day = Math.floor(localMs / DAY_MS);
  const hour = (localMs - day * DAY_MS) / HOUR_MS;
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  const f = hour >= 8 && hour < 18 ? 1 : hour >= 7 && hour < 20 ? 0.3 : 0.02;
  return weekday === 0 || weekday === 6 ? f * 0.08 : f;
}

/** Presence payload (CONTRACT section 1); `offline` is also the per-device Last Will. */
export function presence(state: PresenceState, ts: number): PresencePayload {
  return { state, ts };
}

export class SimDevice {
  readonly id: string;
  readonly spec: ModelSpec;
  /** Changes after a software update (`setFirmware`). */
  firmware: string;
  readonly provider: Platform;
  readonly ip: string;
  private readonly rng: Prng;
  private readonly utcOffsetMs: number;

  private seq = 0;
  private lastFanRpm = 0;
  private bootMs = Number.NaN;
  private lastMs = Number.NaN;
  private readonly initialUptimeS: number;

  private readonly cpuIdle: number;
  private readonly cpuCall: number;
  private readonly memBase: number;
  private readonly tempIdle: number;
  private readonly cpu: Walk;
  private readonly mem: Walk;
  private readonly temp: Walk;
  private readonly rtt: Walk;
  private readonly jitter: Walk;
  /** Loss is max(0, latent): mostly exactly 0, with occasional bursts. */
  private readonly lossLatent: Walk;

  private inCall = false;
  /** Started by a scenario: only a scenario's end (or a reboot) ends it, not the random call length. */
  private callHeld = false;
  // The call in progress, as running sums over the statuses sent during it (no allocation per status).
  private callStartMs = 0;
  private callSamples = 0;
  private callMosSum = 0;
  private callMosMin = 0;
  private callLossSum = 0;
  private callJitterSum = 0;
  /** The summary of the call that ended last, until takeEndedCall() collects it. */
  private endedCall: CallEndedData | undefined;
  private registered = true;
  private readonly peripherals: PeripheralStatus[];
  private readonly randomFaults: boolean;
  /** Scenario overrides by field; empty for an ordinary device (the common case costs one size check). */
  private readonly overrides = new Map<OverridableField, Override>();
  /** Forced by a scenario: cloud registration lost (the provider's outage, not the device's). */
  private forcedUnregistered = false;

  constructor(opts: DeviceOptions) {
    this.id = opts.id;
    this.spec = typeof opts.model === 'string' ? resolveModel(opts.model) : opts.model;
    this.utcOffsetMs = (opts.utcOffsetMin ?? 0) * 60_000;
    this.randomFaults = opts.randomFaults ?? true;
    const rng = (this.rng = new Prng(hashString(opts.id, opts.seed ?? 1)));
    const s = this.spec;

    this.firmware = pickFirmware(s, rng);
    this.provider = rng.pick(s.cloudProviders);
    this.ip = `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
    this.initialUptimeS = rng.int(3600, 21 * 86400);

    // Where in its ranges this particular device idles.
    this.cpuIdle = s.cpuPct.min + span(s.cpuPct) * rng.uniform(0.04, 0.2);
    this.cpuCall = this.cpuIdle + span(s.cpuPct) * rng.uniform(0.25, 0.4);
    this.memBase = s.memPct.min + span(s.memPct) * rng.uniform(0.25, 0.55);
    this.tempIdle = s.tempC.min + span(s.tempC) * rng.uniform(0.2, 0.35);
    const rttBase = s.rttMs.min + span(s.rttMs) * rng.uniform(0.01, 0.1);
    const jitterBase = s.jitterMs.min + span(s.jitterMs) * rng.uniform(0.01, 0.08);

    this.cpu = new Walk(this.cpuIdle, span(s.cpuPct) * 0.04, 120, s.cpuPct.min, s.cpuPct.max, rng);
    this.mem = new Walk(this.memBase, span(s.memPct) * 0.015, 1800, s.memPct.min, s.memPct.max, rng);
    this.temp = new Walk(this.tempIdle, span(s.tempC) * 0.02, 300, s.tempC.min, s.tempC.max, rng);
    this.rtt = new Walk(rttBase, rttBase * 0.25, 600, s.rttMs.min, s.rttMs.max, rng);
    this.jitter = new Walk(jitterBase, jitterBase * 0.3, 300, s.jitterMs.min, s.jitterMs.max, rng);
    this.lossLatent = new Walk(rng.uniform(-0.5, 0), 0.25, 300, -s.lossPct.max, s.lossPct.max, rng);

    this.peripherals = [];
    for (const p of s.peripherals) {
      if (p.share === undefined || rng.chance(p.share)) {
        this.peripherals.push({ kind: p.kind, model: p.model, state: 'ok' });
      }
    }
  }

  /** The seq the next snapshot will carry. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Current round-trip time to the cloud (ms), the base of simulated pings and traceroutes. */
  get networkRttMs(): number {
    return this.rtt.value;
  }

  /** Current packet loss (percent, 0 most of the time). */
  get networkLossPct(): number {
    return Math.max(0, this.lossLatent.value);
  }

  /** Kinds of the peripherals attached to this device. */
  get peripheralKinds(): PeripheralStatus['kind'][] {
    return this.peripherals.map((p) => p.kind);
  }

  /** The value the device reports for an overridable field right now (its walk, or the override). */
  current(field: OverridableField, nowMs: number): number | undefined {
    const o = this.overrides.get(field);
    if (o) return overrideAt(o, nowMs);
    if ((field === 'fanRpm' && !this.spec.fanRpm) || (field === 'mos' && !this.spec.mos)) return undefined;
    return this.walkValue(field, nowMs);
  }

  /**
   * Forces a field (a scenario's fault): to `to` at once, or linearly from the current value over
   * `overMs`. Values may leave the model's ranges: that is the point of a fault.
   */
  override(field: OverridableField, to: number, nowMs: number, overMs = 0): void {
    const from = this.current(field, nowMs) ?? to;
    this.overrides.set(field, { from, to, atMs: nowMs, overMs });
  }

  /** Gives a field back to the device's own walk; with `overMs`, by ramping back to it first. */
  restore(field: OverridableField, nowMs: number, overMs = 0): void {
    const o = this.overrides.get(field);
    if (!o) return;
    if (overMs <= 0) {
      this.overrides.delete(field);
      return;
    }
    // Ramp to where the walk is now, then hand over (the walk keeps moving meanwhile: close enough).
    this.overrides.set(field, { from: overrideAt(o, nowMs), to: this.walkValue(field, nowMs), atMs: nowMs, overMs, release: true });
  }

  /** Every forced field back to the device's own behaviour. */
  restoreAll(nowMs: number, overMs = 0): void {
    for (const field of [...this.overrides.keys()]) this.restore(field, nowMs, overMs);
  }

  /** Cloud registration lost (true) or back (false), whatever the device's own state. */
  forceUnregistered(lost: boolean): void {
    this.forcedUnregistered = lost;
    if (!lost) this.registered = true;
  }

  /** Sets the state of the first peripheral of a kind; returns its previous state (undefined: none attached). */
  setPeripheral(kind: PeripheralStatus['kind'], state: PeripheralState): PeripheralState | undefined {
    const p = this.peripherals.find((x) => x.kind === kind);
    if (!p) return undefined;
    const before = p.state;
    p.state = state;
    return before;
  }

  private walkValue(field: OverridableField, nowMs: number): number {
    switch (field) {
      case 'tempC':
        return this.temp.value;
      case 'fanRpm':
        return this.lastFanRpm;
      case 'cpuPct':
        return this.cpu.value;
      case 'rttMs':
        return this.rtt.value;
      case 'jitterMs':
        return this.jitter.value;
      case 'lossPct':
        return this.networkLossPct;
      case 'mos': {
        // What the network (forced parts included) gives now.
        const mos = mosFor(this.current('rttMs', nowMs)!, this.current('jitterMs', nowMs)!, this.current('lossPct', nowMs)!);
        return this.spec.mos ? clamp(mos, this.spec.mos.min, this.spec.mos.max) : mos;
      }
    }
  }

  /** The override's value now, or `own` (the walk) when there is none; drops finished restores. */
  private forced(field: OverridableField, own: number, nowMs: number): number {
    if (this.overrides.size === 0) return own;
    const o = this.overrides.get(field);
    if (!o) return own;
    if (o.release && nowMs >= o.atMs + o.overMs) {
      this.overrides.delete(field);
      return own;
    }
    return overrideAt(o, nowMs);
  }

  /** After a software update the device reports the new version. */
  setFirmware(version: string): void {
    this.firmware = version;
  }

  /** Restart: seq and uptime start again from 0; a call in progress is lost (no summary: the device died in it). */
  reboot(nowMs: number): void {
    this.seq = 0;
    this.bootMs = nowMs;
    this.inCall = false;
    this.callHeld = false;
  }

  /** In a call now. */
  get callActive(): boolean {
    return this.inCall;
  }

  /**
   * A scenario places a call: it lasts until endCall() (or a reboot), whatever the model's call
   * length. A call already in progress is kept (and held from now). False, and nothing happens, on
   * a model that places no calls.
   */
  startCall(nowMs: number): boolean {
    if (!this.spec.mos) return false;
    if (!this.inCall) {
      this.inCall = true;
      this.beginCall(nowMs);
    }
    this.callHeld = true;
    return true;
  }

  /** A scenario hangs up: the call in progress ends now (its summary waits in takeEndedCall()). False when not in a call. */
  endCall(nowMs: number): boolean {
    if (!this.inCall) return false;
    this.finishCall(nowMs);
    return true;
  }

  /**
   * The quality summary of the call that ended (at a status, or by endCall), once: the `data` of a
   * `call_ended` event. Undefined when no call ended since the last time.
   */
  takeEndedCall(): CallEndedData | undefined {
    const c = this.endedCall;
    if (c !== undefined) this.endedCall = undefined;
    return c;
  }

  private beginCall(nowMs: number): void {
    this.callStartMs = nowMs;
    this.callSamples = 0;
    this.callMosSum = 0;
    this.callMosMin = Number.POSITIVE_INFINITY;
    this.callLossSum = 0;
    this.callJitterSum = 0;
  }

  private finishCall(nowMs: number): void {
    this.inCall = false;
    this.callHeld = false;
    let n = this.callSamples;
    if (n === 0) {
      // Ended before its first status (a scenario's short call): summarised from this moment's values.
      this.sampleCall(this.callMos(this.current('mos', nowMs) ?? 0), round(this.current('lossPct', nowMs) ?? 0, 2), round(this.current('jitterMs', nowMs) ?? 0, 1));
      n = 1;
    }
    this.endedCall = {
      platform: this.provider === 'none' ? 'sip' : this.provider, // no cloud provider: a plain SIP call
      durationS: Math.max(0, Math.round((nowMs - this.callStartMs) / 1000)),
      mos: round(this.callMosSum / n, 2),
      mosMin: this.callMosMin,
      lossPct: round(this.callLossSum / n, 2),
      jitterMs: round(this.callJitterSum / n, 1),
    };
  }

  private sampleCall(mos: number, lossPct: number, jitterMs: number): void {
    this.callSamples++;
    this.callMosSum += mos;
    if (mos < this.callMosMin) this.callMosMin = mos;
    this.callLossSum += lossPct;
    this.callJitterSum += jitterMs;
  }

  /** A MOS as reported: 2 decimals, and inside 1-5 even when forced. */
  private callMos(mos: number): number {
    return round(clamp(mos, 1, 5), 2);
  }

  /** Advance the state to nowMs and return the snapshot to publish (a fresh object each time). */
  nextStatus(nowMs: number): StatusSnapshot {
    const s = this.spec;
    const rng = this.rng;
    let dtS = 0;
    if (Number.isNaN(this.lastMs)) {
      if (Number.isNaN(this.bootMs)) this.bootMs = nowMs - this.initialUptimeS * 1000; // unless reboot() came first
      // A call a scenario started before this first status goes on; otherwise maybe one is in progress.
      if (!this.inCall && this.initialCallState(nowMs)) {
        this.inCall = true;
        this.beginCall(nowMs); // started before the run: its duration counts from here
        this.cpu.shift(this.cpuCall - this.cpuIdle);
        this.mem.shift(span(s.memPct) * 0.06);
        this.temp.shift((span(s.tempC) * 0.35 * (this.cpuCall - this.cpuIdle)) / span(s.cpuPct));
      }
    } else {
      dtS = Math.max(0, (nowMs - this.lastMs) / 1000);
    }
    this.lastMs = nowMs;

    if (dtS > 0) this.stepEvents(nowMs, dtS);

    this.cpu.mean = this.inCall ? this.cpuCall : this.cpuIdle;
    const cpu = this.forced('cpuPct', this.cpu.step(rng, dtS), nowMs);
    this.mem.mean = this.inCall ? this.memBase + span(s.memPct) * 0.06 : this.memBase;
    const mem = this.mem.step(rng, dtS);
    // Temperature follows load with its own lag; the fan follows temperature.
    this.temp.mean = this.tempIdle + (span(s.tempC) * 0.35 * (cpu - this.cpuIdle)) / span(s.cpuPct);
    const temp = this.forced('tempC', this.temp.step(rng, dtS), nowMs);
    const rtt = this.forced('rttMs', this.rtt.step(rng, dtS), nowMs);
    const jitter = this.forced('jitterMs', this.jitter.step(rng, dtS), nowMs);
    const loss = this.forced('lossPct', Math.max(0, this.lossLatent.step(rng, dtS)), nowMs);

    const snap: StatusSnapshot = {
      v: 1,
      ts: nowMs,
      seq: this.seq++,
      model: s.name,
      firmware: this.firmware,
      uptimeS: Math.max(0, Math.floor((nowMs - this.bootMs) / 1000)),
      cpuPct: round(cpu, 1),
      memPct: round(mem, 1),
      tempC: round(temp, 1),
    };
    if (s.fanRpm) {
      const frac = clamp((temp - s.tempC.min) / span(s.tempC), 0, 1);
      const rpm = s.fanRpm.min + span(s.fanRpm) * (frac ** 1.2 + 0.005 * rng.normal());
      this.lastFanRpm = clamp(rpm, s.fanRpm.min, s.fanRpm.max);
      snap.fanRpm = Math.round(this.forced('fanRpm', this.lastFanRpm, nowMs) / 10) * 10;
    }
    const jitterR = round(jitter, 1);
    const lossR = round(loss, 2);
    snap.network = {
      link: 'up',
      ip: this.ip,
      rttMs: round(rtt, 1),
      jitterMs: jitterR,
      lossPct: lossR,
    };
    if (s.mos) {
      if (this.inCall) {
        const mos = this.callMos(this.forced('mos', clamp(mosFor(rtt, jitter, loss), s.mos.min, s.mos.max), nowMs));
        snap.call = { active: true, platform: this.provider, mos };
        // The call's summary averages exactly what its statuses reported.
        this.sampleCall(mos, lossR, jitterR);
      } else {
        snap.call = { active: false, platform: 'none' };
      }
    }
    snap.cloud = { provider: this.provider, registered: this.registered && !this.forcedUnregistered };
    if (this.peripherals.length > 0) {
      snap.peripherals = this.peripherals.map((p) => ({ kind: p.kind, model: p.model, state: p.state }));
    }
    return snap;
  }

  private initialCallState(nowMs: number): boolean {
    if (!this.spec.mos || this.spec.callsPerHour <= 0) return false;
    // Steady state of the on/off chain, so a fleet started at 10:00 already has calls in progress.
    const load = this.spec.callsPerHour * dailyCallFactor(nowMs + this.utcOffsetMs) * (this.spec.callMinutes / 60);
    return this.rng.chance(load / (1 + load));
  }

  private stepEvents(nowMs: number, dtS: number): void {
    const s = this.spec;
    const rng = this.rng;
    if (s.mos && s.callsPerHour > 0) {
      if (this.inCall) {
        // Drawn for a held call too, so a scenario's call does not shift the device's random stream.
        if (rng.chance(within(1 / (s.callMinutes * 60), dtS)) && !this.callHeld) this.finishCall(nowMs);
      } else {
        const rate = (s.callsPerHour * dailyCallFactor(nowMs + this.utcOffsetMs)) / 3600;
        if (rng.chance(within(rate, dtS))) {
          this.inCall = true;
          this.beginCall(nowMs);
        }
      }
    }
    if (!this.randomFaults) return;
    if (this.registered) {
      if (rng.chance(within(CLOUD_DROPS_PER_HOUR / 3600, dtS))) this.registered = false;
    } else if (rng.chance(within(1 / CLOUD_OUTAGE_S, dtS))) {
      this.registered = true;
    }
    for (const p of this.peripherals) {
      if (p.state === 'ok') {
        if (rng.chance(within(PERIPHERAL_FAULTS_PER_HOUR / 3600, dtS))) p.state = pickFault(rng);
      } else {
        const recoveryS = p.state === 'failed' ? PERIPHERAL_FAILED_RECOVERY_S : PERIPHERAL_RECOVERY_S;
        if (rng.chance(within(1 / recoveryS, dtS))) p.state = 'ok';
      }
    }
  }
}

function overrideAt(o: Override, nowMs: number): number {
  if (o.overMs <= 0 || nowMs >= o.atMs + o.overMs) return o.to;
  if (nowMs <= o.atMs) return o.from;
  return o.from + ((o.to - o.from) * (nowMs - o.atMs)) / o.overMs;
}

function pickFault(rng: Prng): PeripheralState {
  const r = rng.next();
  return r < 0.7 ? 'degraded' : r < 0.9 ? 'disconnected' : 'failed';
}

/** Simplified ITU-T G.107 E-model: MOS from one-way delay, jitter and loss. */
export function mosFor(rttMs: number, jitterMs: number, lossPct: number): number {
  const delay = rttMs / 2 + 2 * jitterMs + 10;
  const id = delay < 160 ? delay / 40 : (delay - 120) / 10;
  const ie = lossPct * 2.5;
  const r = clamp(93.2 - id - ie, 0, 100);
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

export function createDevice(opts: DeviceOptions): SimDevice {
  return new SimDevice(opts);
}
